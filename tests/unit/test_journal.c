/* test_journal - the journal fields vmbufd takes from its own log lines. */
#include <string.h>

#include "journal.h"
#include "../check.h"

static int fields(const char *line, const char *vm, const char *pool, const char *handle)
{
	char v[40], p[40], h[40];

	journal_fields(line, v, p, h, sizeof(v));
	return !strcmp(v, vm) && !strcmp(p, pool) && !strcmp(h, handle);
}

int main(void)
{
	CHECK(fields("vm 'cam': exported buffer 3 as 'x' (5f3a09c2...)", "cam", "", "5f3a09c2"),
	      "VM and HANDLE_PREFIX from an export line");
	CHECK(fields("vm 'b': SHMEM_MAP of 4096 bytes of pool 'frames': Timer expired", "b",
		     "frames", ""), "VM and POOL from a map line");
	CHECK(fields("export 'x' (abcd...) of vm 'a' revoked", "a", "", "abcd"),
	      "the VM need not come first");
	CHECK(fields("ready: 2 VM(s), 1 pool(s), sockets in /run/vmbuf", "", "", ""),
	      "a line naming no object has no fields");
	CHECK(fields("vm 'unterminated", "", "", ""), "an unterminated name is no field");
	CHECK(fields("pool (not a handle...) and (xyz...)", "", "", ""),
	      "parentheses that hold no hex prefix are no handle");
	{
		char long_name[200] = "vm '";

		memset(long_name + 4, 'n', 100);
		strcat(long_name, "': x");
		CHECK(fields(long_name, "", "", ""), "a name longer than the field is dropped");
	}
	return check_done();
}
