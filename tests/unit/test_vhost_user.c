/*
 * test_vhost_user - the vhost-user backend over a socketpair, the test as
 * its frontend: every request the backend handles, a request answered
 * through real rings in a memfd "guest RAM", and the malformed messages a
 * hostile frontend may send (each ends the connection, closing the fds it
 * carried, and never touches memory outside what was shared).
 */
#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "core.h"
#include "log.h"
#include "loop.h"
#include "util.h"
#include "vhost_user.h"
#include "../check.h"
#include <linux/virtio_vmbuf.h>

#define GPA 0x100000ull
#define QVA 0x7f0000000000ull
#define RAM (1u << 20)
/* Offsets in guest RAM. */
#define CTL_DESC 0x0000
#define CTL_AVAIL 0x1000
#define CTL_USED 0x2000
#define EVT_DESC 0x3000
#define EVT_AVAIL 0x4000
#define EVT_USED 0x5000
#define REQ 0x10000
#define RESP 0x11000
#define QSIZE 16

static struct core *core;
static struct loop *loop;
static struct vub *b;
static int fe = -1;		/* our end: the frontend's */
static int ramfd = -1;
static uint8_t *ram;
static int kick[2], call[2], err[2];

static int send_msg(uint32_t req, uint32_t flags, const void *p, uint32_t len, const int *fds,
		    unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct vhost_user_hdr h = { req, VHOST_USER_VERSION | flags, len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, len } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	if (nfds) {
		struct cmsghdr *cm;

		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	return sendmsg(fe, &msg, 0) < 0 ? -errno : 0;
}

/* Send, let the backend handle it: its verdict (0 or the errno that ends the connection). */
static int exchange(uint32_t req, uint32_t flags, const void *p, uint32_t len, const int *fds,
		    unsigned int nfds)
{
	int r = send_msg(req, flags, p, len, fds, nfds);

	return r < 0 ? r : vub_sock_ready(b, false);
}

/* Read one reply: its payload length, or -1 when none is waiting. */
static int reply(uint32_t req, void *buf, size_t cap)
{
	struct vhost_user_hdr h;
	struct pollfd p = { fe, POLLIN, 0 };

	if (poll(&p, 1, 0) != 1 || recv(fe, &h, sizeof(h), 0) != sizeof(h) ||
	    h.request != req || h.flags != (VHOST_USER_VERSION | VHOST_USER_REPLY) || h.size > cap)
		return -1;
	return h.size ? (int)recv(fe, buf, h.size, 0) : 0;
}

static uint64_t u64_reply(uint32_t req)
{
	uint64_t v = ~0ull;

	return reply(req, &v, sizeof(v)) == sizeof(v) ? v : ~0ull;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void connect_backend(void)
{
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	fe = sv[0];
	if (vub_new(&b, loop, sv[1], core_vm_by_name(core, "a")) < 0)
		abort();
}

static void disconnect_backend(void)
{
	vub_free(b);
	b = NULL;
	close(fe);
	fe = -1;
}

static int set_mem(uint64_t gpa, uint64_t size, uint64_t offset, int fd)
{
	struct vhost_user_memory m = { .nregions = 1 };

	m.regions[0] = (struct vhost_user_region){ gpa, size, QVA, offset };
	return exchange(VHOST_USER_SET_MEM_TABLE, 0, &m, 8 + 32, &fd, 1);
}

static int vring_state(uint32_t req, uint32_t index, uint32_t num)
{
	struct vhost_user_vring_state s = { index, num };

	return exchange(req, 0, &s, sizeof(s), NULL, 0);
}

static int vring_fd(uint32_t req, uint32_t index, int fd)
{
	uint64_t v = index;

	return exchange(req, 0, &v, sizeof(v), &fd, 1);
}

static int vring_addr(uint32_t index, uint64_t desc, uint64_t avail, uint64_t used)
{
	struct vhost_user_vring_addr a = { index, 0, QVA + desc, QVA + used, QVA + avail, 0 };

	return exchange(VHOST_USER_SET_VRING_ADDR, 0, &a, sizeof(a), NULL, 0);
}

/* Negotiate and set both rings up as QEMU does when the guest sets DRIVER_OK. */
static int start_rings(uint64_t ctl_desc)
{
	uint64_t f = 1ull << VHOST_USER_VIRTIO_F_VERSION_1 | 1ull << VHOST_USER_F_PROTOCOL_FEATURES;
	int r = exchange(VHOST_USER_SET_FEATURES, 0, &f, sizeof(f), NULL, 0);

	memset(ram, 0, REQ);	/* fresh rings, as a driver lays them out */

	if (!r)
		r = set_mem(GPA, RAM, 0, ramfd);
	for (unsigned int q = 0; !r && q < 2; q++) {
		r = vring_state(VHOST_USER_SET_VRING_NUM, q, QSIZE);
		if (!r)
			r = q ? vring_addr(q, EVT_DESC, EVT_AVAIL, EVT_USED) :
				vring_addr(q, ctl_desc, CTL_AVAIL, CTL_USED);
		if (!r)
			r = vring_fd(VHOST_USER_SET_VRING_KICK, q, kick[q]);
		if (!r)
			r = vring_fd(VHOST_USER_SET_VRING_CALL, q, call[q]);
		if (!r)
			r = vring_fd(VHOST_USER_SET_VRING_ERR, q, err[q]);
	}
	for (unsigned int q = 0; !r && q < 2; q++)
		r = vring_state(VHOST_USER_SET_VRING_ENABLE, q, 1);
	return r;
}

static bool readable(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v);
}

/* The frontend's end of the backend channel: record SHMEM requests, answer them. */
static int backend_chan = -1;
static pthread_t answerer;
static volatile int answer_status;
static struct {
	uint32_t req;
	bool fd;
	struct vhost_user_shmem_map m;
} backend_msgs[16];
static volatile unsigned int nbackend;

static void *answer_backend(void *arg)
{
	(void)arg;
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct {
			struct vhost_user_hdr h;
			struct vhost_user_shmem_map m;
		} __attribute__((packed)) in;
		struct iovec iov = { &in, sizeof(in) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				      .msg_controllen = sizeof(ctl.buf) };
		struct {
			struct vhost_user_hdr h;
			uint64_t status;
		} __attribute__((packed)) out;
		struct cmsghdr *cm;
		unsigned int n = nbackend;

		if (recvmsg(backend_chan, &msg, MSG_WAITALL) != sizeof(in) || n >= 16)
			return NULL;
		backend_msgs[n].req = in.h.request;
		backend_msgs[n].m = in.m;
		backend_msgs[n].fd = false;
		cm = CMSG_FIRSTHDR(&msg);
		if (cm && cm->cmsg_type == SCM_RIGHTS) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
			close(fd);
			backend_msgs[n].fd = true;
		}
		nbackend = n + 1;
		if (!(in.h.flags & VHOST_USER_NEED_REPLY))
			continue;
		out.h = (struct vhost_user_hdr){ in.h.request, VHOST_USER_VERSION | VHOST_USER_REPLY,
						 sizeof(out.status) };
		out.status = (uint64_t)answer_status;
		if (send(backend_chan, &out, sizeof(out), 0) != sizeof(out))
			return NULL;
	}
}

static uint64_t free_id;

/* Post request @r (@len bytes) as the ring's entry number @idx, kick, run the loop. */
static void guest_request(uint16_t idx, const void *r, size_t len)
{
	struct vring_desc *d = (void *)(ram + CTL_DESC);
	struct vring_avail *a = (void *)(ram + CTL_AVAIL);
	uint64_t one = 1;

	memcpy(ram + REQ, r, len);
	d[0] = (struct vring_desc){ htole64(GPA + REQ), htole32(len), htole16(VRING_DESC_F_NEXT),
				    htole16(1) };
	d[1] = (struct vring_desc){ htole64(GPA + RESP), htole32(VIRTIO_VMBUF_MSG_MAX),
				    htole16(VRING_DESC_F_WRITE), 0 };
	a->ring[(idx - 1) % QSIZE] = 0;
	__atomic_store_n(&a->idx, htole16(idx), __ATOMIC_RELEASE);
	if (write(kick[0], &one, sizeof(one)) < 0)
		abort();
	loop_dispatch(loop, 0);
}

static void guest_alloc(uint16_t idx, uint64_t size)
{
	struct virtio_vmbuf_alloc al = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
					 .pool_id = htole32(1), .size = htole64(size) };

	guest_request(idx, &al, sizeof(al));
}

static void guest_free(uint16_t idx, uint64_t id)
{
	struct virtio_vmbuf_free fr = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_FREE),
					.buffer_id = htole64(id) };

	guest_request(idx, &fr, sizeof(fr));
}

/* A HELLO on the control ring as a driver would send it. */
static void guest_hello(uint16_t idx)
{
	struct virtio_vmbuf_hello h = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_HELLO),
					.hdr.id = htole64(7),
					.version = htole32(VIRTIO_VMBUF_VERSION) };

	guest_request(idx, &h, sizeof(h));
}

static void make_eventfds(void)
{
	for (int q = 0; q < 2; q++) {
		kick[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		call[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		err[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	}
}

int main(void)
{
	static struct config cfg;
	const char *text = "[vm a]\n[pool p]\nsize = 2M\nmembers = a\n";
	char errtext[256];
	uint8_t buf[512];
	FILE *f;
	int r, before;

	log_init("test_vhost_user", LOG_ERR);
	config_init(&cfg);
	f = fmemopen((void *)text, strlen(text), "r");
	if (config_parse(&cfg, f, "t", errtext, sizeof(errtext)) < 0 || core_new(&core, &cfg) < 0 ||
	    loop_new(&loop) < 0)
		return 1;
	fclose(f);
	ramfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (ftruncate(ramfd, RAM) < 0)
		return 1;
	ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_SHARED, ramfd, 0);
	make_eventfds();

	/* Negotiation, as QEMU's realize does it. */
	connect_backend();
	CHECK(exchange(VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0) == 0 &&
	      u64_reply(VHOST_USER_GET_FEATURES) ==
	      (1ull << VHOST_USER_VIRTIO_F_VERSION_1 | 1ull << VHOST_USER_F_PROTOCOL_FEATURES),
	      "GET_FEATURES: VERSION_1 and PROTOCOL_FEATURES");
	CHECK(exchange(VHOST_USER_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0) == 0 &&
	      u64_reply(VHOST_USER_GET_PROTOCOL_FEATURES) ==
	      (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK | 1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ |
	       1ull << VHOST_USER_PROTOCOL_F_CONFIG | 1ull << VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD |
	       1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS | 1ull << VHOST_USER_PROTOCOL_F_SHMEM),
	      "GET_PROTOCOL_FEATURES: REPLY_ACK, BACKEND_REQ, CONFIG, BACKEND_SEND_FD, "
	      "CONFIGURE_MEM_SLOTS, SHMEM");
	{
		uint64_t pf = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK |
			      1ull << VHOST_USER_PROTOCOL_F_CONFIG;

		CHECK(exchange(VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, sizeof(pf), NULL, 0) == 0,
		      "SET_PROTOCOL_FEATURES: REPLY_ACK and CONFIG");
	}
	CHECK(exchange(VHOST_USER_SET_OWNER, VHOST_USER_NEED_REPLY, NULL, 0, NULL, 0) == 0 &&
	      u64_reply(VHOST_USER_SET_OWNER) == 0, "NEED_REPLY once REPLY_ACK is on: acknowledged with 0");
	CHECK(exchange(VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0) == 0 &&
	      reply(VHOST_USER_SET_OWNER, buf, sizeof(buf)) < 0, "SET_OWNER: no reply unasked");
	CHECK(exchange(VHOST_USER_GET_QUEUE_NUM, 0, NULL, 0, NULL, 0) == 0 &&
	      u64_reply(VHOST_USER_GET_QUEUE_NUM) == 2, "GET_QUEUE_NUM: 2");
	{
		struct vhost_user_config c = { .offset = 0, .size = 8 };
		struct virtio_vmbuf_config cfgspace;

		CHECK(exchange(VHOST_USER_GET_CONFIG, 0, &c, 12 + 8, NULL, 0) == 0 &&
		      reply(VHOST_USER_GET_CONFIG, buf, sizeof(buf)) == 12 + 8 &&
		      (memcpy(&cfgspace, buf + 12, 8), 1) &&
		      le32toh(cfgspace.magic) == VIRTIO_VMBUF_CONFIG_MAGIC &&
		      le32toh(cfgspace.version) == VIRTIO_VMBUF_VERSION,
		      "GET_CONFIG: the vmbuf magic and version");
		c.offset = 4;
		c.size = 2;
		CHECK(exchange(VHOST_USER_GET_CONFIG, 0, &c, 12 + 2, NULL, 0) == 0 &&
		      reply(VHOST_USER_GET_CONFIG, buf, sizeof(buf)) == 12 + 2 &&
		      buf[12] == (VIRTIO_VMBUF_VERSION & 0xff), "GET_CONFIG: a piece at an offset");
		CHECK(exchange(VHOST_USER_SET_CONFIG, 0, &c, 12 + 2, NULL, 0) == -EPERM,
		      "SET_CONFIG: refused, the space is read-only");
	}
	disconnect_backend();

	/* A request answered through real rings. */
	connect_backend();
	CHECK(start_rings(CTL_DESC) == 0, "rings set up as QEMU does (mem table, num, addr, fds, enable)");
	guest_hello(1);
	{
		struct vring_used *u = (void *)(ram + CTL_USED);
		struct virtio_vmbuf_hello_resp *hr = (void *)(ram + RESP);

		CHECK(readable(call[0]) && le16toh(u->idx) == 1 && le32toh(u->ring[0].id) == 0,
		      "HELLO: the used ring advanced and the call eventfd fired");
		CHECK(hr->resp.status == 0 && le64toh(hr->resp.id) == 7 && !strcmp(hr->vm_name, "a") &&
		      le32toh(hr->npools) == 1 &&
		      le32toh(hr->locator_kind) == VIRTIO_VMBUF_LOCATOR_IVPOSITION,
		      "HELLO answered: VM a, its pool located by IVPosition");
	}
	guest_alloc(2, 4096);
	{
		struct vhost_user_vring_state s = { 0, 0 };
		struct virtio_vmbuf_alloc_resp *ar = (void *)(ram + RESP);

		free_id = le64toh(ar->buffer_id);
		CHECK(ar->resp.status == 0 && pool_used(core_pool_by_name(core, "p")) == 4096,
		      "ALLOC of a page through the rings");
		CHECK(exchange(VHOST_USER_GET_VRING_BASE, 0, &s, sizeof(s), NULL, 0) == 0 &&
		      reply(VHOST_USER_GET_VRING_BASE, &s, sizeof(s)) == sizeof(s) && s.index == 0 &&
		      s.num == 2, "GET_VRING_BASE stops the rings: next index 2");
		CHECK(pool_used(core_pool_by_name(core, "p")) == 4096,
		      "stopping the rings (a VM paused) keeps the VM's buffers");
	}
	/* Resume as after a VM pause: the same rings, from where they were. */
	kick[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	kick[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK(vring_fd(VHOST_USER_SET_VRING_KICK, 0, kick[0]) == 0 &&
	      vring_fd(VHOST_USER_SET_VRING_KICK, 1, kick[1]) == 0 &&
	      vring_state(VHOST_USER_SET_VRING_ENABLE, 0, 1) == 0 &&
	      vring_state(VHOST_USER_SET_VRING_ENABLE, 1, 1) == 0, "rings restarted");
	guest_free(3, free_id);
	CHECK(readable(call[0]) && le16toh(((struct vring_used *)(ram + CTL_USED))->idx) == 3 &&
	      ((struct virtio_vmbuf_resp *)(ram + RESP))->status == 0 &&
	      pool_used(core_pool_by_name(core, "p")) == 0,
	      "the resumed session frees the buffer it allocated before the pause");
	guest_alloc(4, 4096);
	guest_hello(5);
	CHECK(((struct virtio_vmbuf_resp *)(ram + RESP))->status == 0 &&
	      pool_used(core_pool_by_name(core, "p")) == 0,
	      "a second HELLO starts a new session: the old one's buffer is released");
	guest_alloc(6, 4096);
	{
		struct virtio_vmbuf_hdr bye = { .type = htole32(VIRTIO_VMBUF_REQ_BYE) };

		guest_request(7, &bye, sizeof(bye));
		CHECK(((struct virtio_vmbuf_resp *)(ram + RESP))->status == 0 &&
		      pool_used(core_pool_by_name(core, "p")) == 0,
		      "BYE ends the session: the VM's buffer is released");
		guest_alloc(8, 4096);
		CHECK((int32_t)le32toh(((struct virtio_vmbuf_resp *)(ram + RESP))->status) ==
		      -EPROTO, "after BYE, requests need a HELLO again (EPROTO)");
	}
	disconnect_backend();
	make_eventfds();

	/* SHMEM: buffers mapped one at a time through the backend channel. */
	connect_backend();
	{
		uint64_t pf = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK |
			      1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ |
			      1ull << VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD |
			      1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS |
			      1ull << VHOST_USER_PROTOCOL_F_SHMEM;
		struct vhost_user_shmem_config sc;
		struct vhost_user_mem_reg mr = { 0, { 0x800000000ull, 65536, QVA + 16 * RAM, 0 } };
		int sv[2];

		exchange(VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, sizeof(pf), NULL, 0);
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
		backend_chan = sv[0];
		CHECK(exchange(VHOST_USER_SET_BACKEND_REQ_FD, 0, NULL, 0, &sv[1], 1) == 0,
		      "SET_BACKEND_REQ_FD");
		close(sv[1]);
		CHECK(exchange(VHOST_USER_GET_SHMEM_CONFIG, 0, NULL, 0, NULL, 0) == 0 &&
		      reply(VHOST_USER_GET_SHMEM_CONFIG, &sc, sizeof(sc)) == sizeof(sc) &&
		      sc.nregions == 1 && sc.memory_sizes[0] == 16u << 20,
		      "GET_SHMEM_CONFIG: one region, room for the VM's pools twice (16 MiB at least)");
		CHECK(exchange(VHOST_USER_GET_MAX_MEM_SLOTS, 0, NULL, 0, NULL, 0) == 0 &&
		      u64_reply(VHOST_USER_GET_MAX_MEM_SLOTS) == 509, "GET_MAX_MEM_SLOTS: 509");
		CHECK(start_rings(CTL_DESC) == 0, "rings set up");
		CHECK(exchange(VHOST_USER_ADD_MEM_REG, 0, &mr, sizeof(mr), &ramfd, 1) == 0,
		      "ADD_MEM_REG: a slot for a mapped buffer");
		CHECK(exchange(VHOST_USER_ADD_MEM_REG, 0, &mr, sizeof(mr), &ramfd, 1) == -EINVAL,
		      "ADD_MEM_REG of the same range again: overlap refused");
		CHECK(exchange(VHOST_USER_REM_MEM_REG, 0, &mr, sizeof(mr), NULL, 0) == 0,
		      "REM_MEM_REG: the slot removed");
		CHECK(exchange(VHOST_USER_REM_MEM_REG, 0, &mr, sizeof(mr), NULL, 0) == -ENOENT,
		      "REM_MEM_REG of a slot that is not there: ENOENT");
		pthread_create(&answerer, NULL, answer_backend, NULL);
		guest_hello(1);
		{
			struct virtio_vmbuf_hello_resp *hr = (void *)(ram + RESP);

			CHECK(readable(call[0]) &&
			      le32toh(hr->locator_kind) == VIRTIO_VMBUF_LOCATOR_SHM &&
			      hr->pools[0].locator == 0 && hr->pools[0].data_offset == 0,
			      "HELLO: pools located in shared memory region 0");
		}
		guest_alloc(2, 8192);
		{
			struct virtio_vmbuf_alloc_resp *ar = (void *)(ram + RESP);

			CHECK(readable(call[0]) && ar->resp.status == 0 && nbackend == 1 &&
			      backend_msgs[0].req == VHOST_USER_BACKEND_SHMEM_MAP && backend_msgs[0].fd &&
			      backend_msgs[0].m.len == 8192 &&
			      backend_msgs[0].m.flags == VHOST_USER_SHMEM_MAP_RW &&
			      backend_msgs[0].m.shm_offset == le64toh(ar->offset) &&
			      backend_msgs[0].m.fd_offset >= 4096,
			      "ALLOC: SHMEM_MAP of the pool range, acknowledged, then the answer with "
			      "the region offset");
			free_id = le64toh(ar->buffer_id);
		}
		guest_free(3, free_id);
		CHECK(readable(call[0]) && nbackend == 2 &&
		      backend_msgs[1].req == VHOST_USER_BACKEND_SHMEM_UNMAP && !backend_msgs[1].fd &&
		      backend_msgs[1].m.shm_offset == backend_msgs[0].m.shm_offset &&
		      backend_msgs[1].m.len == 8192, "FREE: SHMEM_UNMAP of that range");
		answer_status = 1;
		guest_alloc(4, 8192);
		CHECK(readable(call[0]) &&
		      (int32_t)le32toh(((struct virtio_vmbuf_resp *)(ram + RESP))->status) == -EIO &&
		      pool_used(core_pool_by_name(core, "p")) == 0,
		      "a SHMEM_MAP the frontend refuses: ALLOC fails with EIO, nothing kept");
		shutdown(backend_chan, SHUT_RDWR);	/* wakes the answerer */
		pthread_join(answerer, NULL);
		close(backend_chan);
	}
	disconnect_backend();
	make_eventfds();

	/* A ring outside guest RAM: the device breaks and says so on the error eventfd. */
	connect_backend();
	CHECK(start_rings(RAM - 16) == 0 && readable(err[0]),
	      "descriptor table past the end of guest RAM: device broken, error eventfd fired");
	disconnect_backend();
	make_eventfds();

	/* Hostile messages: each ends the connection and leaks no fd. */
	{
		struct { uint32_t req; uint32_t flags; const void *p; uint32_t len; int nfds;
			 int r; const char *what; } bad[] = {
			{ VHOST_USER_SET_FEATURES, 0, "\xff\xff\xff\xff\xff\xff\xff\xff", 8, 0, -EINVAL,
			  "SET_FEATURES with bits never offered" },
			{ VHOST_USER_SET_FEATURES, 0, "\0\0\0", 3, 0, -EBADMSG,
			  "SET_FEATURES with 3 payload bytes" },
			{ VHOST_USER_SET_VRING_NUM, 0, "\5\0\0\0\20\0\0\0", 8, 0, -EINVAL,
			  "SET_VRING_NUM of queue 5" },
			{ VHOST_USER_SET_VRING_NUM, 0, "\0\0\0\0\3\0\0\0", 8, 0, -EINVAL,
			  "SET_VRING_NUM 3 (not a power of two)" },
			{ VHOST_USER_SET_VRING_KICK, 0, "\0\1\0\0\0\0\0\0", 8, 0, -EOPNOTSUPP,
			  "SET_VRING_KICK without an fd (polling)" },
			{ VHOST_USER_SET_VRING_CALL, 0, "\0\0\0\0\0\0\0\0", 8, 0, -EINVAL,
			  "SET_VRING_CALL promising an fd and sending none" },
			{ VHOST_USER_SET_OWNER, 0, NULL, 0, 3, -EBADMSG, "SET_OWNER with 3 fds" },
		};

		for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
			int fds[3];

			for (int k = 0; k < bad[i].nfds; k++)
				fds[k] = eventfd(0, EFD_CLOEXEC);
			connect_backend();
			before = count_fds();
			r = exchange(bad[i].req, bad[i].flags, bad[i].p, bad[i].len, fds, bad[i].nfds);
			CHECK(r == bad[i].r && count_fds() == before, "%s: %s, no fd kept", bad[i].what,
			      strerror(-r));
			for (int k = 0; k < bad[i].nfds; k++)
				close(fds[k]);
			disconnect_backend();
		}
	}
	{
		int small = memfd_create("small", MFD_CLOEXEC);
		struct vhost_user_memory m = { .nregions = 2 };

		if (ftruncate(small, 4096) < 0)
			return 1;
		connect_backend();
		before = count_fds();
		CHECK(set_mem(GPA, RAM, 0, small) == -EINVAL && count_fds() == before,
		      "SET_MEM_TABLE larger than its file (SIGBUS on touch): refused, fd closed");
		disconnect_backend();
		connect_backend();
		CHECK(set_mem(GPA, RAM, ~0ull - 10, ramfd) == -EINVAL,
		      "SET_MEM_TABLE with an mmap offset that overflows: refused");
		disconnect_backend();
		connect_backend();
		m.regions[0] = (struct vhost_user_region){ GPA, RAM, QVA, 0 };
		m.regions[1] = (struct vhost_user_region){ GPA + RAM / 2, RAM, QVA + 2 * RAM, 0 };
		{
			int fds[2] = { ramfd, ramfd };

			CHECK(exchange(VHOST_USER_SET_MEM_TABLE, 0, &m, 8 + 64, fds, 2) == -EINVAL,
			      "SET_MEM_TABLE with overlapping guest ranges: refused");
		}
		disconnect_backend();
		connect_backend();
		m.nregions = 2;
		CHECK(exchange(VHOST_USER_SET_MEM_TABLE, 0, &m, 8 + 64, &ramfd, 1) == -EINVAL,
		      "SET_MEM_TABLE of 2 regions with 1 fd: refused");
		disconnect_backend();
		close(small);
	}
	{
		struct vhost_user_hdr h = { VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 4096 };

		connect_backend();
		CHECK(write(fe, &h, sizeof(h)) == sizeof(h) && vub_sock_ready(b, false) == -EBADMSG,
		      "a 4096-byte payload announced: refused before reading it");
		disconnect_backend();
		h = (struct vhost_user_hdr){ VHOST_USER_GET_FEATURES, 2, 0 };
		connect_backend();
		CHECK(write(fe, &h, sizeof(h)) == sizeof(h) && vub_sock_ready(b, false) == -EBADMSG,
		      "protocol version 2: refused");
		disconnect_backend();
	}
	{
		struct vhost_user_hdr h = { VHOST_USER_GET_QUEUE_NUM, VHOST_USER_VERSION, 0 };

		connect_backend();
		CHECK(write(fe, &h, 5) == 5 && vub_sock_ready(b, false) == 0 &&
		      u64_reply(VHOST_USER_GET_QUEUE_NUM) == ~0ull,
		      "half a header: nothing happens yet");
		CHECK(write(fe, (char *)&h + 5, sizeof(h) - 5) == sizeof(h) - 5 &&
		      vub_sock_ready(b, false) == 0 && u64_reply(VHOST_USER_GET_QUEUE_NUM) == 2,
		      "the rest of it: answered");
		{
			uint64_t pf = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;

			exchange(VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, sizeof(pf), NULL, 0);
		}
		CHECK(exchange(40, VHOST_USER_NEED_REPLY, NULL, 0, NULL, 0) == 0 &&
		      u64_reply(40) == 1, "an unknown request that wants an answer: failure, connection kept");
		CHECK(vub_sock_ready(b, true) == -ECONNRESET, "the frontend hung up: the end");
		disconnect_backend();
	}
	CHECK(strcmp(vub_request_name(VHOST_USER_SET_MEM_TABLE), "SET_MEM_TABLE") == 0 &&
	      strcmp(vub_request_name(999), "unknown") == 0, "request names for logs");

	core_free(core);
	loop_free(loop);
	return check_done();
}
