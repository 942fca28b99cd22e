/*
 * fuzz_vhost_user - libFuzzer target for the vhost-user backend: every input
 * is a stream of frontend messages, with fds, sent to a fresh backend over a
 * socketpair, as a hostile QEMU could send them. The input is a series of
 * chunks {u8 length, u8 fds, length bytes}: the bytes go out in one sendmsg()
 * with the fds the second byte picks (bit 0: the 64 KiB memfd standing for
 * guest RAM, bit 1: an eventfd, bit 2: a 4 KiB memfd). A chunk can hold a
 * header, a payload, both or several messages. After each chunk the kicks
 * are run; a backend that ends the connection is replaced by a new one, so
 * the rest of the input still reaches a backend. Nothing may crash, leak or
 * touch memory outside what the frontend shared.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "core.h"
#include "log.h"
#include "loop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct core *core;
static struct loop *loop;
static int ram = -1, small = -1;

static void setup(void)
{
	static struct config cfg;
	static const char text[] = "[vm a]\n[pool p]\nsize = 2M\nmembers = a\n";
	char err[256];
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	log_init("fuzz", LOG_ERR);
	config_init(&cfg);
	if (config_parse(&cfg, f, "fuzz", err, sizeof(err)) < 0 || core_new(&core, &cfg) < 0 ||
	    loop_new(&loop) < 0)
		__builtin_trap();
	fclose(f);
	ram = memfd_create("ram", MFD_CLOEXEC);
	small = memfd_create("small", MFD_CLOEXEC);
	if (ftruncate(ram, 65536) < 0 || ftruncate(small, 4096) < 0)
		__builtin_trap();
}

static struct vub *connect_backend(int *fe)
{
	struct vub *b;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		__builtin_trap();
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	if (vub_new(&b, loop, sv[1], core_vm_by_name(core, "a")) < 0)
		__builtin_trap();
	*fe = sv[0];
	return b;
}

static void send_chunk(int fe, const uint8_t *p, size_t len, uint8_t which)
{
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)p, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[3], n = 0, efd = -1;

	if (which & 1)
		fds[n++] = ram;
	if (which & 2)
		fds[n++] = efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (which & 4)
		fds[n++] = small;
	if (n) {
		struct cmsghdr *cm;

		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	}
	if (len && sendmsg(fe, &msg, MSG_DONTWAIT) < 0)
		;	/* a full socket: the backend reads it next */
	if (efd >= 0)
		close(efd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char sink[4096];
	struct vub *b;
	int fe;

	if (!core)
		setup();
	b = connect_backend(&fe);
	while (size >= 2) {
		size_t len = data[0] < size - 2 ? data[0] : size - 2;

		send_chunk(fe, data + 2, len, data[1]);
		data += 2 + len;
		size -= 2 + len;
		if (vub_sock_ready(b, false) < 0) {
			vub_free(b);
			close(fe);
			b = connect_backend(&fe);
		}
		loop_dispatch(loop, 0);
		while (recv(fe, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	}
	vub_free(b);
	close(fe);
	return 0;
}
