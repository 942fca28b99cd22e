/* fakevm - userspace control-device driver for daemon tests (see fakevm.h). */
#include "fakevm.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/virtio_config.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ivshmem.h"

#define Q_DESC 4096
#define Q_AVAIL (Q_DESC + 16 * 64)
#define Q_USED (Q_AVAIL + 1024)
#define E_DESC (Q_USED + 1024)
#define E_AVAIL (E_DESC + 16 * 64)
#define E_USED (E_AVAIL + 1024)
#define BUF_REQ (64 * 1024)
#define BUF_RESP (BUF_REQ + 4096)
/* fakevm_events(): event buffer i. */
#define EVT_BUF(i) (256 * 1024 + (i) * sizeof(struct virtio_vmbuf_event))
/* fakevm_call_many(): slot i's request and response. */
#define BATCH_REQ(i) (128 * 1024 + (i) * 2 * VIRTIO_VMBUF_MSG_MAX)
#define BATCH_RESP(i) (BATCH_REQ(i) + VIRTIO_VMBUF_MSG_MAX)

int fakevm_daemon_start(struct fakevm_daemon *d, const char *bin, const char *config)
{
	char conf[160];
	FILE *f;

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/vmbuf-daemon-XXXXXX");
	if (!mkdtemp(d->dir))
		return -1;
	snprintf(d->sockdir, sizeof(d->sockdir), "%s/run", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/vmbufd.log", d->dir);
	snprintf(conf, sizeof(conf), "%s/vmbufd.conf", d->dir);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f, "[vmbufd]\nsocket-dir = %s\nstate-dir = %s/state\n%s", d->sockdir, d->dir,
		config);
	fclose(f);
	return fakevm_daemon_run(d, bin);
}

int fakevm_daemon_run(struct fakevm_daemon *d, const char *bin)
{
	char conf[160], sock[160];

	snprintf(conf, sizeof(conf), "%s/vmbufd.conf", d->dir);
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		execl(bin, bin, "-c", conf, (char *)NULL);	/* info: what a guest can flood */
		_exit(127);
	}
	snprintf(sock, sizeof(sock), "%s/host.sock", d->sockdir);
	for (int i = 0; i < 500; i++) {
		struct stat st;

		if (stat(sock, &st) == 0)
			return 0;
		if (!fakevm_daemon_alive(d))
			break;
		usleep(20000);
	}
	fprintf(stderr, "vmbufd did not start (log: %s)\n", d->log);
	kill(d->pid, SIGKILL);
	return -1;
}

int fakevm_daemon_alive(struct fakevm_daemon *d)
{
	return waitpid(d->pid, NULL, WNOHANG) == 0;
}

int fakevm_daemon_stop(struct fakevm_daemon *d)
{
	int status = -1;

	kill(d->pid, SIGTERM);
	waitpid(d->pid, &status, 0);
	return status;
}

void *fakevm_pool_map(const char *sockdir, const char *name, const char *pool, size_t size,
		      int *sock)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int64_t v;
	void *map;
	int fd;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s/pool-%s.sock", sockdir, name, pool);
	*sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*sock < 0 || connect(*sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return NULL;
	/* Version, own id, then the memory (value -1) before any eventfd. */
	for (int i = 0; i < 8; i++) {
		if (ivshmem_recv(*sock, &v, &fd) < 0)
			return NULL;
		if (v == IVSHMEM_SHM_MSG && fd >= 0) {
			map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			close(fd);
			return map == MAP_FAILED ? NULL : map;
		}
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

int fakevm_connect(struct fakevm *vm, const char *sockdir, const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	unsigned int ndb = 0, nirq = 0;
	int shm = -1;
	int64_t v;
	int fd;

	memset(vm, 0, sizeof(*vm));
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s/ctl.sock", sockdir, name);
	vm->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (vm->sock < 0 || connect(vm->sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	if (ivshmem_recv(vm->sock, &v, &fd) < 0 || v != 0)
		return -EPROTO;
	if (ivshmem_recv(vm->sock, &vm->id, &fd) < 0)
		return -EPROTO;
	while (ndb < VMBUF_IVSHMEM_CTL_VECTORS || nirq < VMBUF_IVSHMEM_CTL_VECTORS || shm < 0) {
		if (ivshmem_recv(vm->sock, &v, &fd) < 0 || fd < 0)
			return -EPROTO;
		if (v == -1)
			shm = fd;
		else if (v == VMBUF_IVSHMEM_DAEMON_PEER && ndb < VMBUF_IVSHMEM_CTL_VECTORS)
			vm->doorbell[ndb++] = fd;
		else if (v == vm->id && nirq < VMBUF_IVSHMEM_CTL_VECTORS)
			vm->irq[nirq++] = fd;
		else
			return -EPROTO;
	}
	vm->size = VMBUF_IVSHMEM_CTL_SIZE;
	vm->map = mmap(NULL, vm->size, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
	close(shm);
	if (vm->map == MAP_FAILED)
		return -errno;
	vm->cfg = (void *)(vm->map + VMBUF_IVSHMEM_CTL_CFG_OFFSET);
	return 0;
}

void fakevm_close(struct fakevm *vm)
{
	for (unsigned int i = 0; i < VMBUF_IVSHMEM_CTL_VECTORS; i++) {
		close(vm->doorbell[i]);
		close(vm->irq[i]);
	}
	if (vm->map && vm->map != MAP_FAILED)
		munmap(vm->map, vm->size);
	close(vm->sock);
	memset(vm, 0, sizeof(*vm));
}

void fakevm_ring(struct fakevm *vm, unsigned int vector)
{
	uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (write(vm->doorbell[vector], &one, sizeof(one)) < 0)
		perror("fakevm: doorbell");
}

int fakevm_wait_irq(struct fakevm *vm, unsigned int vector, int ms)
{
	struct pollfd p = { .fd = vm->irq[vector], .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, ms) != 1)
		return 0;
	return read(vm->irq[vector], &v, sizeof(v)) == sizeof(v);
}

int fakevm_set_status(struct fakevm *vm, uint32_t status, int32_t *error)
{
	uint32_t gen = le32toh(__atomic_load_n(&vm->cfg->generation, __ATOMIC_ACQUIRE));

	vm->cfg->driver_status = htole32(status);
	fakevm_ring(vm, VMBUF_IVSHMEM_VEC_CONFIG);
	for (int i = 0; i < 100; i++) {
		fakevm_wait_irq(vm, VMBUF_IVSHMEM_VEC_CONFIG, 100);
		if (le32toh(__atomic_load_n(&vm->cfg->generation, __ATOMIC_ACQUIRE)) != gen)
			break;
	}
	if (error)
		*error = (int32_t)le32toh(vm->cfg->device_error);
	return (int)le32toh(vm->cfg->device_state);
}

void fakevm_queue(struct fakevm *vm, unsigned int q, unsigned int size, uint64_t desc,
		  uint64_t avail, uint64_t used, unsigned int enable)
{
	struct vmbuf_ivshmem_queue_cfg *c = &vm->cfg->queues[q];

	c->size = htole16(size);
	c->enable = htole16(enable);
	c->desc = htole64(desc);
	c->avail = htole64(avail);
	c->used = htole64(used);
}

int fakevm_setup(struct fakevm *vm)
{
	if (fakevm_set_status(vm, 0, NULL) != VIRTIO_VMBUF_STATE_RESET)
		return -1;
	memset(vm->map + Q_DESC, 0, BUF_RESP + 4096 - Q_DESC);
	fakevm_queue(vm, 0, 64, Q_DESC, Q_AVAIL, Q_USED, 1);
	fakevm_queue(vm, 1, 64, E_DESC, E_AVAIL, E_USED, 1);
	vm->num = 64;
	vm->desc = (void *)(vm->map + Q_DESC);
	vm->avail = (void *)(vm->map + Q_AVAIL);
	vm->used = (void *)(vm->map + Q_USED);
	vm->avail_idx = vm->last_used = 0;
	vm->edesc = (void *)(vm->map + E_DESC);
	vm->eavail = (void *)(vm->map + E_AVAIL);
	vm->eused = (void *)(vm->map + E_USED);
	vm->eavail_idx = vm->elast_used = 0;
	return fakevm_set_status(vm, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				 VIRTIO_CONFIG_S_DRIVER_OK, NULL) == VIRTIO_VMBUF_STATE_LIVE ? 0 : -1;
}

int fakevm_call(struct fakevm *vm, const void *req, size_t len, void *resp, size_t cap)
{
	uint16_t head = (vm->avail_idx * 2) % vm->num;

	memcpy(vm->map + BUF_REQ, req, len);
	vm->desc[head] = (struct vring_desc){ htole64(BUF_REQ), htole32(len),
					       htole16(VRING_DESC_F_NEXT), htole16(head + 1) };
	vm->desc[head + 1] = (struct vring_desc){ htole64(BUF_RESP), htole32(4096),
						   htole16(VRING_DESC_F_WRITE), 0 };
	vm->avail->ring[vm->avail_idx % vm->num] = htole16(head);
	vm->avail_idx++;
	__atomic_store_n(&vm->avail->idx, htole16(vm->avail_idx), __ATOMIC_RELEASE);
	fakevm_ring(vm, VMBUF_IVSHMEM_VEC_CTL);
	for (int i = 0; i < 50; i++) {
		if (le16toh(__atomic_load_n(&vm->used->idx, __ATOMIC_ACQUIRE)) != vm->last_used) {
			struct vring_used_elem *e = &vm->used->ring[vm->last_used % vm->num];
			uint32_t n = le32toh(e->len);

			vm->last_used++;
			memcpy(resp, vm->map + BUF_RESP, n < cap ? n : cap);
			return (int)n;
		}
		fakevm_wait_irq(vm, VMBUF_IVSHMEM_VEC_CTL, 100);
	}
	return -1;
}

int fakevm_call_many(struct fakevm *vm, const void *const *reqs, const size_t *lens,
		     unsigned int n, uint8_t (*resp)[VIRTIO_VMBUF_MSG_MAX], int ms)
{
	unsigned int got = 0;

	if (n > vm->num / 2)
		return -1;
	for (unsigned int i = 0; i < n; i++) {
		memcpy(vm->map + BATCH_REQ(i), reqs[i], lens[i]);
		vm->desc[2 * i] = (struct vring_desc){ htole64(BATCH_REQ(i)), htole32(lens[i]),
						       htole16(VRING_DESC_F_NEXT),
						       htole16(2 * i + 1) };
		vm->desc[2 * i + 1] = (struct vring_desc){ htole64(BATCH_RESP(i)),
							   htole32(VIRTIO_VMBUF_MSG_MAX),
							   htole16(VRING_DESC_F_WRITE), 0 };
		vm->avail->ring[vm->avail_idx % vm->num] = htole16(2 * i);
		vm->avail_idx++;
	}
	__atomic_store_n(&vm->avail->idx, htole16(vm->avail_idx), __ATOMIC_RELEASE);
	fakevm_ring(vm, VMBUF_IVSHMEM_VEC_CTL);
	for (int waited = 0; got < n && waited < ms; waited += 10) {
		while (got < n &&
		       le16toh(__atomic_load_n(&vm->used->idx, __ATOMIC_ACQUIRE)) != vm->last_used) {
			struct vring_used_elem *e = &vm->used->ring[vm->last_used % vm->num];
			uint32_t slot = le32toh(e->id) / 2, len = le32toh(e->len);

			vm->last_used++;
			if (slot < n)
				memcpy(resp[slot], vm->map + BATCH_RESP(slot),
				       len < VIRTIO_VMBUF_MSG_MAX ? len : VIRTIO_VMBUF_MSG_MAX);
			got++;
		}
		if (got < n)
			fakevm_wait_irq(vm, VMBUF_IVSHMEM_VEC_CTL, 10);
	}
	return (int)got;
}

int fakevm_events(struct fakevm *vm, struct virtio_vmbuf_event *out, unsigned int max, int ms)
{
	unsigned int got = 0;

	/* Post what the device has given back (all 64 the first time). */
	while ((uint16_t)(vm->eavail_idx - vm->elast_used) < 64) {
		uint16_t i = vm->eavail_idx % 64;

		vm->edesc[i] = (struct vring_desc){ htole64(EVT_BUF(i)),
						    htole32(sizeof(struct virtio_vmbuf_event)),
						    htole16(VRING_DESC_F_WRITE), 0 };
		vm->eavail->ring[i] = htole16(i);
		vm->eavail_idx++;
	}
	__atomic_store_n(&vm->eavail->idx, htole16(vm->eavail_idx), __ATOMIC_RELEASE);
	fakevm_ring(vm, VMBUF_IVSHMEM_VEC_EVENT);
	for (int waited = 0; waited <= ms;) {
		while (got < max &&
		       le16toh(__atomic_load_n(&vm->eused->idx, __ATOMIC_ACQUIRE)) != vm->elast_used) {
			struct vring_used_elem *e = &vm->eused->ring[vm->elast_used % 64];

			memcpy(&out[got++], vm->map + EVT_BUF(le32toh(e->id) % 64), sizeof(*out));
			vm->elast_used++;
		}
		if (got == max)
			break;
		if (!fakevm_wait_irq(vm, VMBUF_IVSHMEM_VEC_EVENT, 10)) {
			if (got)
				break;	/* quiet for 10 ms after some came */
			waited += 10;
		}
	}
	return (int)got;
}

int32_t fakevm_hello(struct fakevm *vm, struct virtio_vmbuf_hello_resp *out)
{
	struct virtio_vmbuf_hello req = {
		.hdr.type = htole32(VIRTIO_VMBUF_REQ_HELLO),
		.version = htole32(VIRTIO_VMBUF_VERSION),
	};
	struct virtio_vmbuf_hello_resp r;

	memset(&r, 0, sizeof(r));
	if (fakevm_call(vm, &req, sizeof(req), &r, sizeof(r)) < (int)sizeof(r.resp))
		return -ETIMEDOUT;
	if (out)
		*out = r;
	return (int32_t)le32toh(r.resp.status);
}

int32_t fakevm_request(struct fakevm *vm, const void *req, size_t len, void *resp, size_t cap)
{
	uint8_t buf[VIRTIO_VMBUF_MSG_MAX];
	void *out = resp ? resp : buf;
	int n;

	memset(out, 0, resp ? cap : sizeof(buf));
	n = fakevm_call(vm, req, len, out, resp ? cap : sizeof(buf));
	if (n < (int)sizeof(struct virtio_vmbuf_resp))
		return -ETIMEDOUT;
	return (int32_t)le32toh(((struct virtio_vmbuf_resp *)out)->status);
}

int32_t fakevm_alloc(struct fakevm *vm, uint32_t pool, uint64_t size, uint64_t *id)
{
	struct virtio_vmbuf_alloc a = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
					.pool_id = htole32(pool), .size = htole64(size) };
	struct virtio_vmbuf_alloc_resp r;
	int32_t s = fakevm_request(vm, &a, sizeof(a), &r, sizeof(r));

	*id = s ? 0 : le64toh(r.buffer_id);
	return s;
}

int32_t fakevm_export(struct fakevm *vm, uint64_t id, const char *name, const char *to,
		      uint8_t *handle)
{
	struct virtio_vmbuf_export x = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_EXPORT),
					 .buffer_id = htole64(id) };
	struct virtio_vmbuf_export_resp r;
	int32_t s;

	if (name)
		snprintf(x.name, sizeof(x.name), "%s", name);
	if (to) {
		snprintf(x.access[0], sizeof(x.access[0]), "%s", to);
		x.naccess = htole32(1);
	}
	s = fakevm_request(vm, &x, sizeof(x), &r, sizeof(r));
	if (!s && handle)
		memcpy(handle, r.handle, VIRTIO_VMBUF_HANDLE_SIZE);
	return s;
}

int32_t fakevm_import(struct fakevm *vm, const char *name, const uint8_t *handle, uint64_t *id)
{
	struct virtio_vmbuf_import im = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_IMPORT) };
	struct virtio_vmbuf_import_resp r;
	int32_t s;

	if (name) {
		im.flags = htole32(VIRTIO_VMBUF_IMPORT_BY_NAME);
		snprintf(im.name, sizeof(im.name), "%s", name);
	} else {
		memcpy(im.handle, handle, sizeof(im.handle));
	}
	s = fakevm_request(vm, &im, sizeof(im), &r, sizeof(r));
	if (id)
		*id = s ? 0 : le64toh(r.import_id);
	return s;
}
