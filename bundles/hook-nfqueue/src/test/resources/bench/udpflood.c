/*
 * The traffic generator of the NFQUEUE benchmark: small UDP datagrams (18 bytes of payload, 60-byte frames) as fast
 * as sendmmsg can send them, to one destination, for a number of seconds. Every datagram of an unreplied UDP flow is
 * conntrack state NEW, so a "ct state new" queue rule queues each of them, like the first packets of new flows.
 *
 * Build: gcc -O2 -o udpflood udpflood.c
 * Usage: udpflood IPV4_ADDRESS PORT SECONDS
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

int main(int argc, char *argv[])
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct mmsghdr msgs[BATCH];
	struct iovec iov = { .iov_base = "flexwall-nfq-bench", .iov_len = 18 };
	struct timespec now, end;
	unsigned long long sent = 0;
	int fd, i, n;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "usage: %s IPV4_ADDRESS PORT SECONDS\n", argv[0]);
		return EXIT_FAILURE;
	}
	dst.sin_port = htons(atoi(argv[2]));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		perror("socket");
		return EXIT_FAILURE;
	}
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += atoi(argv[3]);
	do {
		n = sendmmsg(fd, msgs, BATCH, 0);
		if (n > 0)
			sent += n;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	printf("%llu\n", sent);
	return 0;
}
