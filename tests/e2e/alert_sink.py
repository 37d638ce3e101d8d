"""alert_sink: stands in for the journal's and syslog's sockets. Binds the Unix datagram sockets
given (NAME=PATH ...), and appends every datagram it gets, as one JSON string a line, to
OUTDIR/NAME.log, until killed."""
import json, os, select, socket, sys

outdir = sys.argv[1]
socks = {}
for arg in sys.argv[2:]:
    name, path = arg.split("=", 1)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    socks[s] = name
open(os.path.join(outdir, "ready"), "w").close()
while True:
    ready, _, _ = select.select(list(socks), [], [])
    for s in ready:
        data = s.recv(65536)
        with open(os.path.join(outdir, socks[s] + ".log"), "a") as f:
            f.write(json.dumps(data.decode("utf-8", "replace")) + "\n")
