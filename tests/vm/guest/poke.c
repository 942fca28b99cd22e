/*
 * poke - a rogue pool member for tests: writes into a PCI BAR through its
 * sysfs resource file, without vmbuf.ko (what any root process of a pool
 * member can do to the pool's memory).
 *   poke RESOURCE_FILE OFFSET HEXBYTES   e.g. poke .../resource2 0 564d4246
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t off, n;
	uint8_t *m;
	int fd;

	if (argc != 4 || strlen(argv[3]) % 2) {
		fprintf(stderr, "usage: poke RESOURCE_FILE OFFSET HEXBYTES\n");
		return 2;
	}
	off = strtoul(argv[2], NULL, 0);
	n = strlen(argv[3]) / 2;
	fd = open(argv[1], O_RDWR | O_SYNC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	m = mmap(NULL, off + n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		sscanf(argv[3] + 2 * i, "%2x", &b);
		m[off + i] = (uint8_t)b;
	}
	munmap(m, off + n);
	close(fd);
	printf("poked %zu bytes at %zu\n", n, off);
	return 0;
}
