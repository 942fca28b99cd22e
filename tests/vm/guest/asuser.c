/*
 * asuser - run a command as another user inside a test guest (busybox has
 * no setuid tool): asuser UID[:GID] COMMAND [ARG]..., with no supplementary
 * groups and no capabilities left.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long uid, gid;
	char *end;

	if (argc < 3) {
		fprintf(stderr, "usage: asuser UID[:GID] COMMAND [ARG]...\n");
		return 2;
	}
	uid = strtoul(argv[1], &end, 10);
	gid = *end == ':' ? strtoul(end + 1, &end, 10) : uid;
	if (*end) {
		fprintf(stderr, "asuser: bad UID[:GID] '%s'\n", argv[1]);
		return 2;
	}
	if (setgroups(0, NULL) < 0 || setgid((gid_t)gid) < 0 || setuid((uid_t)uid) < 0) {
		perror("asuser");
		return 1;
	}
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
