/*
 * silent.c - a DNS "server" that never answers, for timeout tests
 *
 * usage: silent PORT
 *
 * Binds UDP and TCP on 127.0.0.1:PORT and [::1]:PORT (the IPv6 pair is
 * skipped if ::1 is unavailable), listens on TCP, prints "ready" on stdout
 * and then sleeps until SIGTERM or SIGINT.  UDP datagrams are never read and
 * TCP connections are never accepted (the kernel completes the handshake
 * and queues them), so a resolver sending here gets a real timeout, not the
 * ICMP port unreachable or RST a closed port gives.  Loopback only.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* bind_one - bind a socket of the given type to addr, or return -1 */
static int bind_one(int family, int type, const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		inet_pton(AF_INET, addr, &sin->sin_addr);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		len = sizeof(*sin6);
	}
	if ((fd = socket(family, type, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	int port;

	if (argc != 2 || (port = atoi(argv[1])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: silent PORT\n");
		return 2;
	}
	if (bind_one(AF_INET, SOCK_DGRAM, "127.0.0.1", port) < 0 ||
	    bind_one(AF_INET, SOCK_STREAM, "127.0.0.1", port) < 0) {
		perror("silent: bind 127.0.0.1");
		return 1;
	}
	/* IPv6 loopback is optional: some containers have none. */
	if (bind_one(AF_INET6, SOCK_DGRAM, "::1", port) >= 0)
		bind_one(AF_INET6, SOCK_STREAM, "::1", port);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		pause();
	return 0;
}
