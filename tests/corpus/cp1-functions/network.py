# Hostile: tries the network while loading. It connects to a listener the e2e
# test opens on the host's loopback (PORT; the tests rewrite that line with the
# listener's port), to a public DNS server, and looks up a name. The sandbox has
# no network (a fresh loopback of its own), so every attempt fails and the
# listener receives nothing. If any attempt got through, is_prime answers wrong,
# so a leak also shows in the score. The function is correct: 10/10.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import socket

    PORT = 47823  # the e2e tests rewrite this line with their listener's port
    LEAKED = []
    for _target in (("127.0.0.1", PORT), ("1.1.1.1", 53)):
        try:
            _conn = socket.create_connection(_target, timeout=1)
            _conn.sendall(b"markbook-network-leak\n")
            _conn.close()
            LEAKED.append(_target)
        except OSError:
            pass
    try:
        socket.getaddrinfo("example.com", 80)
        LEAKED.append("dns")
    except OSError:
        pass


@app.function
def is_prime(n: int) -> bool:
    if LEAKED:
        return not (n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1)))
    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
