/* CRESCENT: generates libm.txt, glibc's results for the math functions the
 * Lua library calls, for crescent_libm_test.go.
 *
 *   gcc -O2 -o /tmp/gen gen.c -lm && /tmp/gen > libm.txt
 *
 * The arguments come from a deterministic generator (splitmix64, doubles
 * built from bits or by one exact IEEE operation) that the Go test
 * reproduces, so only the results are written ("%a"); each section ends
 * with a checksum of its arguments' bits. Hand-picked arguments (special
 * values, exact and halfway-looking cases) are written with their results.
 *
 * Format:  "= name count seed" then count results, "# xor <hex>" (the
 * arguments' checksum), then "! x [y] result" lines.  NaNs are "nan" or
 * "-nan" (%a prints their sign). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t st;
static uint64_t next(void) {
	uint64_t z = (st += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static double fb(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }
static uint64_t bf(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }

/* a double with a random significand, exponent in [e0, e1], sign random
 * when neg */
static double rnd(int e0, int e1, int neg) {
	uint64_t r = next();
	uint64_t e = (uint64_t)(e0 + (int)(next() % (uint64_t)(e1 - e0 + 1)) + 1023);
	uint64_t s = neg ? (r >> 63) : 0;
	return fb(s << 63 | e << 52 | (r & 0xfffffffffffffULL));
}

/* gen is the argument generator the Go test mirrors (genArgs): kind
 * selects the function's domain. */
static void gen(int kind, int i, double *x, double *y) {
	uint64_t c = next() % 8;
	*y = 0;
	switch (kind) {
	case 0: /* pow */
		switch (c) {
		case 0: case 1: /* integer exponents */
			*x = rnd(-8, 8, c == 1);
			*y = (double)((int64_t)(next() % 401) - 200);
			break;
		case 2: /* fractional exponents */
			*x = rnd(-20, 20, 0);
			*y = (double)((int64_t)(next() % 200001) - 100000) / 1000.0;
			break;
		case 3: /* anything positive */
			*x = rnd(-1074 + 52, 1023, 0);
			*y = rnd(-10, 6, 1);
			break;
		case 4: /* near 1, huge exponents */
			*x = 1 + (double)((int64_t)(next() % 2001) - 1000) * 0x1p-40;
			*y = rnd(20, 50, 1);
			break;
		case 5: /* results near overflow and underflow, subnormal results */
			*x = rnd(0, 0, 0);
			*y = rnd(9, 10, 1);
			break;
		case 6: /* small integers: exact results */
			*x = (double)((int64_t)(next() % 41) - 20);
			*y = (double)((int64_t)(next() % 61) - 30);
			break;
		default: /* subnormal bases */
			*x = fb(next() & 0xfffffffffffffULL);
			*y = (double)((int64_t)(next() % 2001) - 1000) / 1000.0;
			break;
		}
		return;
	case 1: /* exp, sinh, cosh */
		switch (c) {
		case 0: case 1: case 2: *x = rnd(-4, 9, 1); break;
		case 3: *x = rnd(-60, -5, 1); break;
		case 4: *x = rnd(9, 9, 1); break; /* [512, 1024): overflow, underflow */
		case 5: *x = (double)((int64_t)(next() % 1501) - 750) / 2.0; break;
		default: *x = rnd(-1, 2, 1); break;
		}
		return;
	case 2: /* log, log10 */
		switch (c) {
		case 0: case 1: case 2: *x = rnd(-1022, 1023, 0); break;
		case 3: *x = 1 + rnd(-52, -2, 1); break; /* near 1 */
		case 4: *x = fb(next() & 0xfffffffffffffULL); break; /* subnormal */
		case 5: *x = (double)(next() % 100000); break;
		default: *x = rnd(-4, 4, 0); break;
		}
		return;
	case 3: /* sin, cos, tan */
		switch (c) {
		case 0: case 1: case 2: *x = rnd(-5, 3, 1); break;
		case 3: *x = rnd(3, 30, 1); break;
		case 4: *x = rnd(30, 1023, 1); break; /* huge */
		case 5: *x = rnd(-40, -5, 1); break;
		default: /* near multiples of pi/2 */
			*x = (double)((int64_t)(next() % 2001) - 1000) * 1.5707963267948966;
			break;
		}
		return;
	case 4: /* asin, acos */
		switch (c) {
		case 0: case 1: case 2: case 3: *x = rnd(-6, -1, 1); break;
		case 4: *x = 1 - rnd(-53, -5, 0); break; /* near 1 */
		case 5: *x = rnd(-60, -7, 1); break;
		default: *x = (double)((int64_t)(next() % 2001) - 1000) / 1000.0; break;
		}
		return;
	case 5: /* atan, tanh */
		switch (c) {
		case 0: case 1: case 2: *x = rnd(-6, 6, 1); break;
		case 3: *x = rnd(6, 1023, 1); break;
		case 4: *x = rnd(-60, -6, 1); break;
		default: *x = rnd(-1, 4, 1); break;
		}
		return;
	case 6: /* atan2 */
		switch (c) {
		case 0: case 1: case 2: *x = rnd(-5, 5, 1); *y = rnd(-5, 5, 1); break;
		case 3: *x = rnd(-1000, 1000, 1); *y = rnd(-1000, 1000, 1); break;
		case 4: *x = rnd(-40, 40, 1); *y = rnd(-40, 40, 1); break;
		default: *x = rnd(-3, 3, 1); *y = (double)((int64_t)(next() % 21) - 10); break;
		}
		return;
	}
}

struct fn {
	const char *name;
	int kind, n;
	double (*f1)(double);
	double (*f2)(double, double);
};

static void pr(double d) {
	if (isnan(d))
		printf(signbit(d) ? "-nan" : "nan");
	else
		printf("%a", d);
}

static const double specials[] = {
	0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 10.0, 1e22, 1e23,
	0.1, 1e-300, 1e300, 0x1p-1074, -0x1p-1074, 0x1p-1022, 0x1.fffffffffffffp-1023,
	0x1.fffffffffffffp+1023, -0x1.fffffffffffffp+1023, 1.5707963267948966,
	3.141592653589793, 0.7853981633974483, 6.283185307179586, 709.782712893384,
	709.7827128933841, -745.1332191019411, -745.1332191019412, -708.3964185322641,
	710.4758600739439, 710.475860073944, 22.0, 19.0, 0x1p-27, 0x1p-28, 1e-8,
	0.9999999999999999, 1.0000000000000002, 2.718281828459045, 1e15, 1e16, 100, 1000,
	1e-5, 0x1p+52, 0x1p+53, 0x1.0p+64, 1e308, 0x1p+1023, 0x1.921fb54442d18p+1023,
	0x1.6a09e667f3bcdp-1, 0x1.6a09e667f3bccp-1, 1.0/0.0, -1.0/0.0,
};

int main(int argc, char **argv) {
	/* gen [seed [count]]: another seed and count, for a bigger check */
	uint64_t seed = argc > 1 ? strtoull(argv[1], 0, 0) : 0x5eed0000ULL;
	int count = argc > 2 ? atoi(argv[2]) : 0;
	static const struct fn fns[] = {
		{"pow", 0, 4000, 0, pow},   {"exp", 1, 2000, exp, 0},     {"log", 2, 2000, log, 0},
		{"log10", 2, 2000, log10, 0}, {"sin", 3, 2000, sin, 0},   {"cos", 3, 2000, cos, 0},
		{"tan", 3, 2000, tan, 0},   {"asin", 4, 2000, asin, 0},   {"acos", 4, 2000, acos, 0},
		{"atan", 5, 2000, atan, 0}, {"atan2", 6, 2000, 0, atan2}, {"sinh", 1, 2000, sinh, 0},
		{"cosh", 1, 2000, cosh, 0}, {"tanh", 5, 2000, tanh, 0},
	};
	const int ns = sizeof specials / sizeof specials[0];
	static const double bspecials[] = {
		0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 0.1, 1e300, -1e300,
		0x1p-1074, 0x1.fffffffffffffp+1023, 1.5707963267948966, 1.0/0.0, -1.0/0.0,
	};
	const int nb = sizeof bspecials / sizeof bspecials[0];
	double nan = fb(0x7ff8000000000000ULL), nnan = fb(0xfff8000000000000ULL);
	for (unsigned k = 0; k < sizeof fns / sizeof fns[0]; k++) {
		const struct fn *f = &fns[k];
		st = seed + k;
		uint64_t sum = 0;
		int n = count ? count : f->n;
		printf("= %s %d %#llx\n", f->name, n, (unsigned long long)seed);
		for (int i = 0; i < n; i++) {
			double x = 0, y = 0;
			gen(f->kind, i, &x, &y);
			sum ^= bf(x) * 3 + bf(y);
			pr(f->f1 ? f->f1(x) : f->f2(x, y));
			printf("\n");
		}
		printf("# xor %016llx\n", (unsigned long long)sum);
		/* specials: every value, and its pairs for binary functions */
		int m = f->f1 ? ns : nb;
		for (int i = 0; i < m + 2; i++) {
			double x = f->f1 ? (i < ns ? specials[i] : (i == ns ? nan : nnan))
			                 : (i < nb ? bspecials[i] : (i == nb ? nan : nnan));
			if (f->f1) {
				printf("! "); pr(x); printf(" "); pr(f->f1(x)); printf("\n");
				continue;
			}
			for (int j = 0; j < nb + 2; j++) {
				double y = j < nb ? bspecials[j] : (j == nb ? nan : nnan);
				printf("! "); pr(x); printf(" "); pr(y); printf(" "); pr(f->f2(x, y)); printf("\n");
			}
		}
		if (f->kind == 0) {
			/* exact and halfway-looking results: odd m^n with 54 bits, m^2 for y = 1.5 */
			static const double hx[] = {134217727, 134217729, 262143, 262145, 8191, 94906267, 3, 5, 7, 9, 11, 1.5, 0.75, 1.25};
			for (unsigned i = 0; i < sizeof hx / sizeof hx[0]; i++)
				for (int n = -40; n <= 40; n++) {
					printf("! "); pr(hx[i]); printf(" %a ", (double)n); pr(pow(hx[i], n)); printf("\n");
				}
			static const double sq[] = {262143.0 * 262143.0, 262145.0 * 262145.0, 9, 16, 0.25, 6.25, 1e10};
			static const double fy[] = {0.5, 1.5, 2.5, -0.5, -1.5, 0.25, 0.75, 3.5};
			for (unsigned i = 0; i < sizeof sq / sizeof sq[0]; i++)
				for (unsigned j = 0; j < sizeof fy / sizeof fy[0]; j++) {
					printf("! "); pr(sq[i]); printf(" %a ", fy[j]); pr(pow(sq[i], fy[j])); printf("\n");
				}
		}
	}
	return 0;
}
