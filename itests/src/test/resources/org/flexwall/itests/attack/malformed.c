/*
 * Malformed IPv4 and IPv6 packets for AttackSystemTest, sent as raw Ethernet frames (AF_PACKET) so that no kernel
 * on the sending side repairs a length, a checksum or a header: what leaves is exactly what is written here.
 *
 * Cycles through KINDS kinds of broken packet (listed in kinds[] below), from SRC4/SRC6 to DST4/DST6, at TCP_PORT and
 * UDP_PORT, with pseudo-random fields from a fixed seed so a failure can be replayed. Prints the number sent.
 *
 * usage: malformed IFNAME DST_MAC SRC4 DST4 SRC6 DST6 TCP_PORT UDP_PORT COUNT
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned char frame[2048];
static unsigned char src_mac[6], dst_mac[6];
static struct in_addr src4, dst4;
static struct in6_addr src6, dst6;
static int tcp_port, udp_port;
static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t) rng;
}

static void put16(unsigned char *p, int v) {
    p[0] = (unsigned char) (v >> 8);
    p[1] = (unsigned char) v;
}

static void garbage(unsigned char *p, int n) {
    for (int i = 0; i < n; i++) {
        p[i] = (unsigned char) rnd();
    }
}

static uint16_t checksum(const unsigned char *p, int n) {
    uint32_t sum = 0;
    for (int i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t) (p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        sum += (uint32_t) (p[n - 1] << 8);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) ~sum;
}

/* An Ethernet header; returns where the network header starts. */
static unsigned char *ether(int type) {
    memcpy(frame, dst_mac, 6);
    memcpy(frame + 6, src_mac, 6);
    put16(frame + 12, type);
    return frame + 14;
}

/* An IPv4 header of ihl words claiming total bytes; the checksum is right unless bad_sum. */
static void ip4(unsigned char *p, int ihl, int total, int proto, int frag, int bad_sum) {
    memset(p, 0, 20);
    p[0] = (unsigned char) (0x40 | (ihl & 0xf));
    put16(p + 2, total);
    put16(p + 4, (int) rnd());
    put16(p + 6, frag);
    p[8] = 64;
    p[9] = (unsigned char) proto;
    memcpy(p + 12, &src4, 4);
    memcpy(p + 16, &dst4, 4);
    int hl = (ihl & 0xf) * 4 < 20 ? 20 : (ihl & 0xf) * 4;
    put16(p + 10, checksum(p, hl) ^ (bad_sum ? 0x5a5a : 0));
}

static void ip6(unsigned char *p, int payload, int next) {
    memset(p, 0, 40);
    p[0] = 0x60;
    put16(p + 4, payload);
    p[6] = (unsigned char) next;
    p[7] = 64;
    memcpy(p + 8, &src6, 16);
    memcpy(p + 24, &dst6, 16);
}

/* A TCP header (20 bytes unless doff says otherwise) with flags, checksum left random. */
static void tcp(unsigned char *p, int doff, int flags) {
    put16(p, 1024 + (int) (rnd() % 60000));
    put16(p + 2, tcp_port);
    garbage(p + 4, 8);
    p[12] = (unsigned char) (doff << 4);
    p[13] = (unsigned char) flags;
    put16(p + 14, 65535);
    garbage(p + 16, 4);
}

static void udp(unsigned char *p, int length) {
    put16(p, 1024 + (int) (rnd() % 60000));
    put16(p + 2, udp_port);
    put16(p + 4, length);
    garbage(p + 6, 2);
}

/* An IPv6 extension header of the given type and 8-byte units, options padded with PadN. */
static int ext(unsigned char *p, int next, int units) {
    p[0] = (unsigned char) next;
    p[1] = (unsigned char) units;
    int len = (units + 1) * 8;
    p[2] = 1; /* PadN over the rest */
    p[3] = (unsigned char) (len - 4);
    memset(p + 4, 0, len - 4);
    return len;
}

/* Each kind writes one frame and returns its length. */
static int v4_short_ihl(void) { unsigned char *ip = ether(0x0800); ip4(ip, 3, 40, 6, 0, 0); tcp(ip + 20, 5, 0x02); return 14 + 40; }
static int v4_ihl_past_end(void) { unsigned char *ip = ether(0x0800); ip4(ip, 15, 40, 6, 0, 0); tcp(ip + 20, 5, 0x02); return 14 + 40; }
static int v4_total_too_long(void) { unsigned char *ip = ether(0x0800); ip4(ip, 5, 1500, 6, 0, 0); tcp(ip + 20, 5, 0x02); return 14 + 40; }
static int v4_total_too_short(void) { unsigned char *ip = ether(0x0800); ip4(ip, 5, 24, 6, 0, 0); tcp(ip + 20, 5, 0x02); return 14 + 40; }
static int v4_tcp_truncated(void) { unsigned char *ip = ether(0x0800); ip4(ip, 5, 28, 6, 0, 0); tcp(ip + 20, 5, 0x02); return 14 + 28; }
static int v4_udp_truncated(void) { unsigned char *ip = ether(0x0800); ip4(ip, 5, 24, 17, 0, 0); udp(ip + 20, 8); return 14 + 24; }
static int v4_bad_checksum(void) { unsigned char *ip = ether(0x0800); ip4(ip, 5, 40, 6, 0, 1); tcp(ip + 20, 5, 0x02); return 14 + 40; }
static int v4_tiny_first_fragment(void) { unsigned char *ip = ether(0x0800); ip4(ip, 5, 28, 6, 0x2000, 0); tcp(ip + 20, 5, 0x02); return 14 + 28; }
static int v4_stray_fragment(void) {
    unsigned char *ip = ether(0x0800);
    int n = 8 + (int) (rnd() % 57);
    ip4(ip, 5, 20 + n, rnd() % 2 ? 6 : 17, (int) (rnd() % 0x3fff), 0);
    garbage(ip + 20, n);
    return 14 + 20 + n;
}
static int v4_tcp_bad_offset(void) { unsigned char *ip = ether(0x0800); ip4(ip, 5, 40, 6, 0, 0); tcp(ip + 20, rnd() % 2 ? 2 : 15, 0x02); return 14 + 40; }
static int v4_garbage_options(void) {
    unsigned char *ip = ether(0x0800);
    int ihl = 6 + (int) (rnd() % 10);
    ip4(ip, ihl, ihl * 4 + 20, 6, 0, 1);
    garbage(ip + 20, ihl * 4 - 20);
    put16(ip + 10, 0);
    put16(ip + 10, checksum(ip, ihl * 4));
    tcp(ip + ihl * 4, 5, 0x02);
    return 14 + ihl * 4 + 20;
}
static int v4_wrong_version(void) { unsigned char *ip = ether(0x0800); ip4(ip, 5, 40, 6, 0, 0); ip[0] = (unsigned char) (rnd() % 2 ? 0x65 : 0x05); tcp(ip + 20, 5, 0x02); return 14 + 40; }
static int v4_garbage(void) { unsigned char *ip = ether(0x0800); int n = 1 + (int) (rnd() % 120); garbage(ip, n); return 14 + n; }
static int v4_odd_protocol(void) {
    static const int protos[] = { 0, 1, 2, 4, 41, 47, 50, 132, 255 };
    unsigned char *ip = ether(0x0800);
    int n = (int) (rnd() % 64);
    ip4(ip, 5, 20 + n, protos[rnd() % 9], 0, 0);
    garbage(ip + 20, n);
    return 14 + 20 + n;
}
static int v4_udp_length_lies(void) { unsigned char *ip = ether(0x0800); ip4(ip, 5, 36, 17, 0, 0); udp(ip + 20, rnd() % 2 ? 3 : 900); return 14 + 36; }
static int v6_payload_too_long(void) { unsigned char *ip = ether(0x86dd); ip6(ip, 1400, 6); tcp(ip + 40, 5, 0x02); return 14 + 60; }
static int v6_long_chain(void) {
    unsigned char *ip = ether(0x86dd);
    int at = 40, n = 10 + (int) (rnd() % 40);
    for (int i = 0; i < n; i++) {
        at += ext(ip + at, i + 1 < n ? 60 : 6, 0);
    }
    tcp(ip + at, 5, 0x02);
    ip6(ip, at - 40 + 20, 60);
    return 14 + at + 20;
}
static int v6_hop_by_hop_not_first(void) {
    unsigned char *ip = ether(0x86dd);
    int at = 40;
    at += ext(ip + at, 0, 0);
    at += ext(ip + at, 6, 0);
    tcp(ip + at, 5, 0x02);
    ip6(ip, at - 40 + 20, 60);
    return 14 + at + 20;
}
static int v6_routing_type0(void) {
    unsigned char *ip = ether(0x86dd);
    unsigned char *r = ip + 40;
    r[0] = 6; r[1] = 2; r[2] = 0; r[3] = 1; /* type 0, one segment left */
    memset(r + 4, 0, 4);
    memcpy(r + 8, &src6, 16);
    tcp(ip + 64, 5, 0x02);
    ip6(ip, 24 + 20, 43);
    return 14 + 84;
}
static int v6_fragment(void) {
    unsigned char *ip = ether(0x86dd);
    unsigned char *f = ip + 40;
    f[0] = rnd() % 2 ? 6 : 17;
    f[1] = 0;
    put16(f + 2, (int) (rnd() & 0xfff9)); /* any offset, M flag random */
    garbage(f + 4, 4);
    int n = 8 + (int) (rnd() % 40);
    garbage(ip + 48, n);
    ip6(ip, 8 + n, 44);
    return 14 + 48 + n;
}
static int v6_unknown_next(void) {
    unsigned char *ip = ether(0x86dd);
    int n = (int) (rnd() % 64);
    garbage(ip + 40, n);
    ip6(ip, n, rnd() % 2 ? 253 : 59);
    return 14 + 40 + n;
}
static int v6_ext_past_end(void) {
    unsigned char *ip = ether(0x86dd);
    ext(ip + 40, 6, 0);
    ip[41] = 255; /* claims 2 KiB, the frame has 8 bytes */
    ip6(ip, 8, rnd() % 2 ? 0 : 60);
    return 14 + 48;
}
static int v6_tcp_truncated(void) {
    unsigned char *ip = ether(0x86dd);
    int at = 40 + ext(ip + 40, 6, 0);
    tcp(ip + at, 5, 0x02);
    ip6(ip, at - 40 + 4, 60);
    return 14 + at + 4;
}
static int v6_wrong_version(void) { unsigned char *ip = ether(0x86dd); ip6(ip, 20, 6); ip[0] = 0x40; tcp(ip + 40, 5, 0x02); return 14 + 60; }
static int v6_garbage(void) { unsigned char *ip = ether(0x86dd); int n = 1 + (int) (rnd() % 120); garbage(ip, n); return 14 + n; }

static int (*const kinds[])(void) = {
    v4_short_ihl, v4_ihl_past_end, v4_total_too_long, v4_total_too_short, v4_tcp_truncated, v4_udp_truncated,
    v4_bad_checksum, v4_tiny_first_fragment, v4_stray_fragment, v4_tcp_bad_offset, v4_garbage_options,
    v4_wrong_version, v4_garbage, v4_odd_protocol, v4_udp_length_lies, v6_payload_too_long, v6_long_chain,
    v6_hop_by_hop_not_first, v6_routing_type0, v6_fragment, v6_unknown_next, v6_ext_past_end, v6_tcp_truncated,
    v6_wrong_version, v6_garbage,
};

static int parse_mac(const char *s, unsigned char *mac) {
    return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) == 6;
}

int main(int argc, char **argv) {
    if (argc != 10 || !parse_mac(argv[2], dst_mac) || inet_pton(AF_INET, argv[3], &src4) != 1
            || inet_pton(AF_INET, argv[4], &dst4) != 1 || inet_pton(AF_INET6, argv[5], &src6) != 1
            || inet_pton(AF_INET6, argv[6], &dst6) != 1) {
        fprintf(stderr, "usage: malformed IFNAME DST_MAC SRC4 DST4 SRC6 DST6 TCP_PORT UDP_PORT COUNT\n");
        return 2;
    }
    tcp_port = atoi(argv[7]);
    udp_port = atoi(argv[8]);
    long count = atol(argv[9]);
    int s = socket(AF_PACKET, SOCK_RAW, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
    if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) != 0) {
        perror(argv[1]);
        return 1;
    }
    memcpy(src_mac, ifr.ifr_hwaddr.sa_data, 6);
    struct sockaddr_ll to;
    memset(&to, 0, sizeof to);
    to.sll_family = AF_PACKET;
    to.sll_ifindex = (int) if_nametoindex(argv[1]);
    to.sll_halen = 6;
    memcpy(to.sll_addr, dst_mac, 6);
    int n_kinds = (int) (sizeof kinds / sizeof kinds[0]);
    long sent = 0;
    int failures = 0;
    while (sent < count) {
        memset(frame, 0, sizeof frame);
        int len = kinds[sent % n_kinds]();
        if (len < 60) {
            len = 60; /* Ethernet's minimum; the padding is what a real wire carries too */
        }
        if (sendto(s, frame, (size_t) len, 0, (struct sockaddr *) &to, sizeof to) == len) {
            sent++;
            failures = 0;
        } else if (++failures > 10000) {
            perror("sendto");
            return 1;
        } else {
            usleep(100); /* the transmit queue is full: let it drain, then send the same kind again */
        }
    }
    printf("sent %ld malformed frames of %d kinds\n", sent, n_kinds);
    return 0;
}
