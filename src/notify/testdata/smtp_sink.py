"""A loopback SMTP sink for jit's e-mail tests (Debian's python3-aiosmtpd).

Binds 127.0.0.1 on a free port, writes the port to --port-file, and stores every message it
accepts as one JSON file in --out: the envelope, the raw text, and the headers and body as
Python's email package reads them (an independent MIME parser). Recipients starting with
"reject" are refused with 550, "busy" with 451. With --cert/--key it offers STARTTLS and
requires it. It stops by itself after --max-seconds.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import socket
import ssl

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, out):
        self.out = out
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 no such user"
        if address.startswith("busy"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        body = "" if msg.is_multipart() else msg.get_content()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "raw": raw.decode("utf-8", "replace"),
            "headers": [[k, str(v)] for k, v in msg.items()],
            "subject": str(msg["Subject"]),
            "body": body,
            "content_type": msg.get_content_type(),
            "charset": msg.get_content_charset(),
            "tls": getattr(session, "ssl", None) is not None,
        }
        self.count += 1
        path = os.path.join(self.out, "%04d.json" % self.count)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


async def main(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    handler = Handler(args.out)
    loop = asyncio.get_running_loop()
    await loop.create_server(
        lambda: SMTP(handler, hostname="localhost", tls_context=context,
                     require_starttls=context is not None),
        sock=sock)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(sock.getsockname()[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    await asyncio.sleep(args.max_seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--max-seconds", type=float, default=120)
    asyncio.run(main(parser.parse_args()))
