/*
 * The C baseline of the NFQUEUE benchmark: a minimal consumer that accepts every packet, written the way
 * libnetfilter_queue's examples/nf-queue.c is (libmnl socket, nfq_nlmsg_* helpers, one recv and one verdict message
 * per packet), without its per-packet printf. Same queue configuration as the Java hook: packet copy, GSO, and the
 * same forced receive buffer, so the two verdict loops are compared, not their buffer sizes.
 *
 * Build: gcc -O2 -o nfq-accept nfq-accept.c -lnetfilter_queue -lmnl
 * Usage: nfq-accept QUEUE_NUM RCVBUF_BYTES
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static struct mnl_socket *nl;
static unsigned int queue_num;

static int on_packet(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = {};
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nfqnl_msg_packet_hdr *ph;
	struct nlmsghdr *verdict;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
		return MNL_CB_ERROR;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	verdict = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, queue_num);
	nfq_nlmsg_verdict_put(verdict, ntohl(ph->packet_id), NF_ACCEPT);
	if (mnl_socket_sendto(nl, verdict, verdict->nlmsg_len) < 0) {
		perror("mnl_socket_sendto");
		exit(EXIT_FAILURE);
	}
	return MNL_CB_OK;
}

int main(int argc, char *argv[])
{
	size_t size = 0xffff + (MNL_SOCKET_BUFFER_SIZE / 2);
	char *buf = malloc(size);
	struct nlmsghdr *nlh;
	unsigned int portid;
	int rcvbuf, one = 1;
	ssize_t n;

	if (argc != 3 || buf == NULL) {
		fprintf(stderr, "usage: %s QUEUE_NUM RCVBUF_BYTES\n", argv[0]);
		return EXIT_FAILURE;
	}
	queue_num = atoi(argv[1]);
	rcvbuf = atoi(argv[2]);

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink socket");
		return EXIT_FAILURE;
	}
	portid = mnl_socket_get_portid(nl);
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue_num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("bind queue");
		return EXIT_FAILURE;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue_num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("configure queue");
		return EXIT_FAILURE;
	}
	/* as in the example: losses show in the kernel's queue counters, not as ENOBUFS here */
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(int));

	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, size);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			perror("mnl_socket_recvfrom");
			return EXIT_FAILURE;
		}
		if (mnl_cb_run(buf, n, 0, portid, on_packet, NULL) < 0) {
			perror("mnl_cb_run");
			return EXIT_FAILURE;
		}
	}
}
