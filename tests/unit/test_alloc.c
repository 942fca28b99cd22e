/* test_alloc - the range allocator: alignment, exhaustion, coalescing, bad frees. */
#include <stdlib.h>

#include "alloc.h"
#include "../check.h"

int main(void)
{
	struct alloc a;
	uint64_t o1, o2, o3, o4;

	CHECK(alloc_init(&a, 4096, (16 << 20) - 4096) == 0, "init 16 MiB pool minus header");
	CHECK(alloc_get(&a, 4096, 4096, &o1) == 0 && o1 == 4096, "first page at 4096");
	CHECK(alloc_get(&a, 2 << 20, 2 << 20, &o2) == 0 && o2 == (2 << 20),
	      "2 MiB aligned allocation skips to 2 MiB");
	CHECK(alloc_get(&a, 8192, 4096, &o3) == 0 && o3 == 8192, "small allocation fills the gap");
	CHECK(a.used == 4096 + (2 << 20) + 8192, "used bytes add up");
	CHECK(alloc_get(&a, 16 << 20, 4096, &o4) == -ENOMEM, "larger than free space: ENOMEM");
	CHECK(alloc_get(&a, 0, 4096, &o4) == -EINVAL, "zero length: EINVAL");
	CHECK(alloc_get(&a, 4096, 3, &o4) == -EINVAL, "non power-of-two alignment: EINVAL");
	CHECK(alloc_free(&a, o1, 4096) == 0, "free first page");
	CHECK(alloc_free(&a, o1, 4096) == -EINVAL, "double free: EINVAL");
	CHECK(alloc_free(&a, 0, 4096) == -EINVAL, "free below the base: EINVAL");
	CHECK(alloc_free(&a, 16 << 20, 4096) == -EINVAL, "free past the end: EINVAL");
	CHECK(alloc_free(&a, o3, 8192) == 0 && alloc_free(&a, o2, 2 << 20) == 0, "free the rest");
	CHECK(a.used == 0 && a.nfree == 1 && alloc_largest(&a) == (16 << 20) - 4096,
	      "everything coalesced back into one range");

	/* Churn: random sizes, random frees; the allocator must end whole. */
	{
		uint64_t offs[64] = { 0 }, lens[64] = { 0 };
		unsigned int seed = 7;
		int bad = 0;

		for (int i = 0; i < 20000; i++) {
			int k = rand_r(&seed) % 64;

			if (lens[k]) {
				bad |= alloc_free(&a, offs[k], lens[k]) != 0;
				lens[k] = 0;
			} else {
				uint64_t len = ((uint64_t)(rand_r(&seed) % 64) + 1) * 4096;

				if (alloc_get(&a, len, (rand_r(&seed) & 1) ? 4096 : 65536, &offs[k]) == 0)
					lens[k] = len;
			}
		}
		for (int k = 0; k < 64; k++)
			if (lens[k])
				bad |= alloc_free(&a, offs[k], lens[k]) != 0;
		CHECK(!bad && a.used == 0 && a.nfree == 1, "20000 random operations leave it whole");
	}
	alloc_fini(&a);
	return check_done();
}
