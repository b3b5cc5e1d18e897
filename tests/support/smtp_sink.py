"""A mail sink for the tests: a real SMTP server on 127.0.0.1 (a free port) that keeps every
message it is sent. Small on purpose: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""
import socketserver
import threading
import time


class SmtpSink(object):
    def __init__(self):
        self.messages = []  # (sender, [recipients], text)
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                sink.converse(self.rfile, self.wfile)

        self.server = socketserver.ThreadingTCPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def converse(self, rfile, wfile):
        def say(line):
            wfile.write(line.encode('ascii') + b'\r\n')
            wfile.flush()
        say('220 127.0.0.1 tgdeploy test sink')
        sender, recipients = None, []
        for raw in rfile:
            command = raw.decode('utf-8', 'replace').strip()
            verb = command.split(' ', 1)[0].upper()
            if verb in ('EHLO', 'HELO'):
                say('250 127.0.0.1')
            elif verb == 'MAIL':
                sender, recipients = command.split(':', 1)[1].strip(' <>'), []
                say('250 OK')
            elif verb == 'RCPT':
                recipients.append(command.split(':', 1)[1].strip(' <>'))
                say('250 OK')
            elif verb == 'DATA':
                say('354 go ahead')
                lines = []
                for data in rfile:
                    if data in (b'.\r\n', b'.\n'):
                        break
                    lines.append(data.decode('utf-8', 'replace'))
                self.messages.append((sender, recipients, ''.join(lines)))
                say('250 OK')
            elif verb == 'QUIT':
                say('221 bye')
                return
            else:  # RSET, NOOP and anything else
                say('250 OK')

    def wait_for(self, count=1, timeout=20):
        deadline = time.time() + timeout
        while len(self.messages) < count and time.time() < deadline:
            time.sleep(0.05)
        return self.messages
