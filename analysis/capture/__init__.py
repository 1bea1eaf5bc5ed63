"""Packet captures: what each request waited for, measured from the packets (issue 19).

    reader.py       pcap/pcapng frames -> TCP/UDP packets (streamed)
    protocols.py    the few payload fields kept: HTTP request line and status, DNS question
                    and rcode, TLS SNI; nothing else of a payload is read
    reconstruct.py  packets -> inbound requests, DNS queries, metadata calls
    attribution.py  which request each DNS query and metadata call belongs to, if one
    evidence.py     <env>/pcap/ as evidence, and what `latency-gap inspect` says of a capture
    segments.py     measured requests as waterfall segments (dns, metadata, app), and waits
    measured.py     an environment's captured requests as the attribution draws them
"""
