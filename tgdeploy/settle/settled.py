"""The settled values: what settle() decided, in named groups read by attribute.

``values.daemon.processes``, ``values.paths.data_dir``, and in the templates
``{{daemon.processes}}``. GROUPS says which value is in which group (each in exactly one);
settle() fills the groups step by step (``values.logs.update(...)``). An entry
``('name', 'project')`` is the attribute ``name`` of the value from_flat() takes under the
flat name ``project``, where the group makes the old prefix redundant. A name no group
has raises AttributeError; a field of a group left unset (a partial one, in tests) is None.
A field named in a table: ``values.lookup('paths.data_dir')``; a changed copy:
``values.replace(apache={'port': 8080})``.

The template helpers of the ``quote`` group (``q``, ``sh``...) are also given to the
templates by their bare names, and ``slug`` too: PasteScript's copy_dir fills the
``+slug+`` file names from a flat name.
"""

GROUPS = (
    ('project', (('name', 'project'), 'slug', 'flavor', 'flavor_name', 'package',
                 'package_dir', 'root', 'evidence', 'memory_sessions', 'uses_sqlobject',
                 'paster_era', 'thread_pool_one', 'link_prefixes', 'tgdeploy_version')),
    ('paths', ('project_dir', 'import_dir', 'apache_dir', 'htdocs_dir', 'wsgi_file',
               'conf_file', 'data_dir', 'egg_cache', 'private_dirs', 'runtime_dirs',
               'elsewhere')),
    ('python', (('home', 'python_home'), ('version', 'python_version'), 'python2')),
    ('apache', ('mode', ('version', 'apache'), 'server_name', 'port', 'mount', 'hosts',
                'host_count', 'header_timeout', 'body_timeout', 'keep_alive_timeout',
                'max_keep_alive_requests',
                'limit_request_body', 'pass_authorization', 'compress', 'setenv',
                'script_reloading', 'status_url', 'status_dir', 'status_daemon')),
    ('daemon', (('name', 'daemon_name'), 'process_group', 'processes', 'threads', 'user',
                'group', 'preload', 'locale', 'legacy_stdout', 'leak_guards',
                'maximum_requests', 'restart_interval', 'inactivity_timeout',
                'header_buffer_size', 'queue_timeout', 'request_timeout', 'socket_timeout',
                'response_socket_timeout', 'interrupt_timeout', 'services')),
    ('static', (('urls', 'static_urls'), ('dirs', 'static_dirs'), ('root', 'static_root'),
                ('root_pattern', 'static_root_pattern'), ('skipped', 'static_skipped'),
                ('max_age', 'static_max_age'))),
    ('https', (('kind', 'https'), ('port', 'https_port'), ('only', 'https_only'),
               ('url', 'https_url'), 'hsts', 'acme_email', 'acme_ca', 'ssl_certificate',
               'ssl_key', 'ssl_chain')),
    ('proxies', (('trusted', 'trust_proxy'), ('trusted_headers', 'trusted_proxy_headers'),
                 'untrusted_headers')),
    ('logs', (('dir', 'log_dir'), ('path', 'log_path'), ('folder', 'log_folder'),
              ('owner', 'log_owner'), ('days', 'log_days'), 'system_rotation', 'rotatelogs',
              'piped_access', 'error_log', 'access_log')),
    ('production', ('secure_cookies', 'error_email', 'smtp', 'sentry_dsn', 'rotate_secrets',
                    'secrets_from', 'repository_secrets', 'secret_files',
                    ('changes', 'production_changes'),
                    ('cherrypy_settings', 'cherrypy_production'))),
    ('config', (('file', 'config_file'), ('source', 'source_config'), 'write_ini',
                'derived_ini', 'has_logging', ('cherrypy', 'cherrypy_config'))),
    ('tg1', (('version', 'tg_version'), ('cfg', 'tg_cfg'), ('cfg_file', 'tg_cfg_file'))),
    ('startup', (('function', 'startup'), ('replay', 'startup_replay'),
                 ('script', 'startup_script'), ('call', 'startup_call'),
                 ('sets_config', 'startup_sets_config'), 'env_file',
                 ('env_pairs', 'env_file_pairs'), ('own_steps', 'startup_own_steps'))),
    ('quote', ('q', 'qdir', 'qexpr', 'sh', 'shq', 'tmpfiles_path')),
)
GROUP_NAMES = tuple(name for name, _ in GROUPS)
# The key settle() builds -> (group, attribute).
WHERE = dict((entry if isinstance(entry, str) else entry[1],
              (group, entry if isinstance(entry, str) else entry[0]))
             for group, entries in GROUPS for entry in entries)
FIELDS = dict((group, tuple(entry if isinstance(entry, str) else entry[0]
                            for entry in entries)) for group, entries in GROUPS)
TEMPLATE_HELPERS = FIELDS['quote']


class Group(object):
    """One group of settled values; its attributes are the group's fields."""

    def __init__(self, name, values):
        object.__setattr__(self, '_name', name)
        for field, value in values.items():
            setattr(self, field, value)

    def __getattr__(self, field):
        if field.startswith('__'):
            raise AttributeError(field)
        if field in FIELDS[self._name]:
            return None  # a field of the group left unset (a partial Settled.from_flat)
        raise AttributeError('settled values: no %s.%s (the groups are in '
                             'tgdeploy/settle/settled.py)' % (self._name, field))

    def __setattr__(self, field, value):
        if field not in FIELDS[self._name]:
            raise AttributeError('settled values: no %s.%s (the groups are in '
                                 'tgdeploy/settle/settled.py)' % (self._name, field))
        object.__setattr__(self, field, value)

    def update(self, fields=(), **more):
        """Set several fields at once (a settle step filling its group); a name the group
        has not raises AttributeError."""
        for field, value in list(dict(fields).items()) + list(more.items()):
            setattr(self, field, value)

    def fields(self):
        """{field: value} of the fields this group holds."""
        return dict((field, getattr(self, field)) for field in FIELDS[self._name]
                    if field in self.__dict__)

    def __eq__(self, other):
        return isinstance(other, Group) and (self._name, self.fields()) == (
            other._name, other.fields())

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return '<%s %s>' % (self._name, ' '.join(sorted(self.fields())))


class Settled(object):
    """All the groups: ``values.<group>.<field>``."""

    def __init__(self, groups=None):
        groups = groups or {}
        unknown = sorted(set(groups) - set(GROUP_NAMES))
        if unknown:
            raise AttributeError('settled values: no group %s' % ', '.join(unknown))
        for name in GROUP_NAMES:
            object.__setattr__(self, name, Group(name, groups.get(name) or {}))

    @classmethod
    def from_flat(cls, flat):
        """From a {flat name: value} (the second name of a GROUPS entry); a key not in GROUPS
        is a bug. settle() fills the groups itself; this is kept for Settled.of (render()
        given a dict) and for the tests that build partial values by the flat names
        (test_crawl, test_diagnose, test_write_locations, test_mod_wsgi_lines,
        support/kallithea.py)."""
        unknown = sorted(set(flat) - set(WHERE))
        if unknown:
            raise KeyError('settled value %s has no group: add it to GROUPS in '
                           'tgdeploy/settle/settled.py' % ', '.join(unknown))
        groups = dict((name, {}) for name in GROUP_NAMES)
        for key, value in flat.items():
            group, field = WHERE[key]
            groups[group][field] = value
        return cls(groups)

    @classmethod
    def of(cls, values):
        """``values`` as a Settled (a {key: value} is taken by its keys)."""
        return values if isinstance(values, Settled) else cls.from_flat(dict(values))

    def lookup(self, name):
        """The value of ``name``, 'group.field' (for tables of fields)."""
        group, field = name.split('.')
        return getattr(getattr(self, group), field)

    def replace(self, **changes):
        """A copy with some fields changed, by group: ``replace(apache={'port': 8080})``;
        this one is left as it is."""
        groups = dict((name, getattr(self, name).fields()) for name in GROUP_NAMES)
        for name, fields in changes.items():
            if name not in groups:
                raise AttributeError('settled values: no group %s' % name)
            Group(name, fields)  # refuses a field the group has not
            groups[name].update(fields)
        return Settled(groups)

    def map(self, function):
        """A copy with ``function`` applied to every value but the helpers."""
        return Settled(dict((name, dict(
            (field, value if name == 'quote' else function(value))
            for field, value in getattr(self, name).fields().items())) for name in GROUP_NAMES))

    def namespace(self):
        """What the templates see: the groups, the helpers and ``slug`` by their bare names."""
        names = dict((name, getattr(self, name)) for name in GROUP_NAMES)
        names.update(self.quote.fields())
        names['slug'] = self.project.slug
        return names

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        raise AttributeError('settled values: no group %s (the groups are in '
                             'tgdeploy/settle/settled.py)' % name)

    def __setattr__(self, name, value):
        raise AttributeError('settled values: set a field of a group (values.%s.<field>), '
                             'not a group' % name)

    def __eq__(self, other):
        return isinstance(other, Settled) and all(
            getattr(self, name) == getattr(other, name) for name in GROUP_NAMES)

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return '<Settled %s>' % ' '.join(GROUP_NAMES)
