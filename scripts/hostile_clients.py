#!/usr/bin/env python3
"""Hostile bodies and clients for the webhook (issue 23), shared by scripts/hostile-rss.sh and
scripts/load.sh so that both drive the same thing.

  hostile_clients.py body SIZE OUT [array|string]
      writes an AdmissionReview of about SIZE bytes to OUT: the FlinkDeployment CREATE fixture
      with the unknown field `spec.x` set to `[1, 1, ...]` (array: one JSON value per two bytes,
      past `--max-values` unless SIZE is small) or to one long string (string: one value, judged)
  hostile_clients.py stall PORT N [HOLD]
      N TLS connections send headers and 2.9 MB of a 3,000,000-byte body, then nothing
  hostile_clients.py headers PORT N [HOLD]
      N TLS connections send 390 KB of headers that never end

The two client modes print one line once every connection has sent what it sends and a second
has passed (`N connections held; answers: {...}; failed while sending: K`: what the server
answered on each, `closed` when it closed it), then hold the connections HOLD seconds (4).
"""
import json
import socket
import ssl
import sys
import threading
import time

FIXTURE = 'tests/fixtures/admission/flinkdeployment-create.json'


def body(size, out, kind='array'):
    r = json.load(open(FIXTURE))
    base = len(json.dumps(r, separators=(',', ':')))
    room = size - base - 20
    if kind == 'array':
        r['request']['object']['spec']['x'] = [1] * (room // 2)
    elif kind == 'string':
        r['request']['object']['spec']['x'] = 'a' * room
    else:
        sys.exit(f'body kind is array or string, not {kind}')
    open(out, 'w').write(json.dumps(r, separators=(',', ':')))


def clients(mode, port, n, hold):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(['http/1.1'])
    held, failed, lock = [], [0], threading.Lock()

    def one():
        try:
            s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)),
                                server_hostname='localhost')
            if mode == 'stall':
                s.sendall(b'POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json'
                          b'\r\nContent-Length: 3000000\r\n\r\n')
                s.settimeout(0.05)
                sent = 0
                while sent < 2_900_000:
                    try:
                        s.sendall(b'1' * 65536)
                        sent += 65536
                    except OSError:
                        break
            else:
                s.settimeout(2)
                s.sendall(b'POST /validate HTTP/1.1\r\nHost: x\r\nX-Pad: ')
                for _ in range(390):
                    s.sendall(b'a' * 1000)
            with lock:
                held.append(s)
        except OSError:
            with lock:
                failed[0] += 1

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(1)
    got = {}
    for s in held:
        s.settimeout(0.01)
        try:
            d = s.recv(100)
            k = d.split(b' ')[1].decode() if d else 'closed'
        except OSError:
            k = 'nothing yet'
        got[k] = got.get(k, 0) + 1
    print(f'{len(held)} connections held; answers: {got}; failed while sending: {failed[0]}',
          flush=True)
    time.sleep(hold)


def main(argv):
    if len(argv) >= 3 and argv[0] == 'body':
        body(int(argv[1]), argv[2], *argv[3:4])
    elif len(argv) >= 3 and argv[0] in ('stall', 'headers'):
        clients(argv[0], int(argv[1]), int(argv[2]), float(argv[3]) if len(argv) > 3 else 4)
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv[1:])
