#!/usr/bin/python3
"""A stand-in for systemd's notification socket: bind a Unix datagram socket at argv[1],
print "listening" once bound, then each datagram received as one JSON string per line
(flushed), until killed. Used by the e2e suite jotd_systemd (NOTIFY_SOCKET)."""
import json
import os
import socket
import sys

path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print("listening", flush=True)
while True:
    data = s.recv(4096)
    print(json.dumps(data.decode("utf-8", "replace")), flush=True)
