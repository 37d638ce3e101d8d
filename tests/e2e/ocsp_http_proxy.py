#!/usr/bin/env python3
"""ocsp_http_proxy: plain HTTP in front of inkand's OCSP responder and CRLs, as a deployment's
proxy would be (`ca_base_url` http://...): relying parties such as NSS (pdfsig) fetch OCSP over
HTTP only. Forwards GET /ocsp/..., POST /ocsp, GET /ca/crl and GET /ca/arl to the https URL in
TARGET (read for every request, so inkand may restart on another port) trusting CACERT, and
answers what inkand answered.

Usage: ocsp_http_proxy.py PORTFILE TARGET CACERT — binds 127.0.0.1:0, writes the port to
PORTFILE, serves until TARGET's directory is gone (the test's cleanup) or 30 minutes pass."""
import http.server, os, ssl, sys, time, urllib.error, urllib.request

PORTFILE, TARGET, CACERT = sys.argv[1:4]


class Handler(http.server.BaseHTTPRequestHandler):
    def forward(self, body):
        if not (self.path.startswith("/ocsp") or self.path in ("/ca/crl", "/ca/arl")):
            self.send_error(404)
            return
        base = open(TARGET).read().strip()
        req = urllib.request.Request(base + self.path, data=body, method=self.command)
        if body is not None:
            req.add_header("Content-Type", self.headers.get("Content-Type", ""))
        ctx = ssl.create_default_context(cafile=CACERT)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
                status, ctype, data = r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            status, ctype, data = e.code, e.headers.get("Content-Type", ""), e.read()
        # status line, headers and body in one write, as a proxy in front of a responder sends
        # a small answer: NSS's HTTP client then never sees a response in two pieces
        reason = self.responses.get(status, ("",))[0]
        head = "%s %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (
            self.protocol_version, status, reason, ctype, len(data))
        self.log_request(status, len(data))
        self.wfile.write(head.encode("latin-1") + data)
        self.close_connection = True

    def do_GET(self):
        self.forward(None)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.forward(self.rfile.read(min(n, 65536)))

    def log_message(self, fmt, *args):
        sys.stderr.write("ocsp_http_proxy: " + (fmt % args) + "\n")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.timeout = 1
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
end = time.time() + 1800
while os.path.isdir(os.path.dirname(os.path.abspath(TARGET))) and time.time() < end:
    srv.handle_request()
