/*
 * check - the tests' one assertion macro: TAP lines, a count, and a closing
 * "N passed, N failed" line from check_done() (its return is the exit status).
 */
#ifndef VMBUF_CHECK_H
#define VMBUF_CHECK_H

#include <errno.h>
#include <stdio.h>

static int check_tests, check_failures;

#define CHECK(cond, ...)                                              \
	do {                                                          \
		check_tests++;                                        \
		if (cond) {                                           \
			printf("ok %d - ", check_tests);              \
		} else {                                              \
			check_failures++;                             \
			printf("not ok %d - ", check_tests);          \
		}                                                     \
		printf(__VA_ARGS__);                                  \
		printf("\n");                                         \
	} while (0)

static inline int check_done(void)
{
	printf("1..%d\n%d passed, %d failed\n", check_tests, check_tests - check_failures,
	       check_failures);
	return check_failures ? 1 : 0;
}

#endif
