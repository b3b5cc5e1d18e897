"""The front of several hosts: a balancer config (HAProxy or Apache mod_proxy_balancer) in
front of the same deployment on each."""
