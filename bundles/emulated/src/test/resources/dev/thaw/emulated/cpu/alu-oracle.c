/*
 * Generates alu-oracle.txt.gz: results and flags of integer instructions as this
 * machine's CPU (x86-64, run natively) computes them, for AluOracleTest.
 *   gcc -O1 -o /tmp/alu-oracle alu-oracle.c && /tmp/alu-oracle | gzip -9n > alu-oracle.txt.gz
 * Each line: name size rax rbx rcx rdx flags_in  rax' rbx' rcx' rdx' flags_out
 * (hex). The instruction is "name" at operand size "size" with rax as the
 * destination, rbx the source, cl the count, rdx the high half (mul/div).
 */
#include <stdio.h>
#include <stdint.h>

typedef uint64_t u64;

#define RUN(insn) do { \
	u64 a = rax, b = rbx, c = rcx, d = rdx, f = fin, fo; \
	__asm__ volatile("push %[f]\n\tpopfq\n\t" insn "\n\tpushfq\n\tpop %[fo]" \
		: "+a"(a), "+b"(b), "+c"(c), "+d"(d), [fo] "=&r"(fo) : [f] "r"(f) : "cc", "memory"); \
	printf("%s %d %lx %lx %lx %lx %lx %lx %lx %lx %lx %lx\n", name, size, rax, rbx, rcx, rdx, fin, a, b, c, d, fo & 0xfff); \
} while (0)

#define SIZED(name8, name16, name32, name64) \
	switch (size) { \
	case 1: RUN(name8); break; \
	case 2: RUN(name16); break; \
	case 4: RUN(name32); break; \
	default: RUN(name64); break; \
	}

#define BIN(op) SIZED(op " %%bl, %%al", op " %%bx, %%ax", op " %%ebx, %%eax", op " %%rbx, %%rax")
#define UN(op) SIZED(op "b %%al", op "w %%ax", op "l %%eax", op "q %%rax")
#define SHIFT(op) SIZED(op "b %%cl, %%al", op "w %%cl, %%ax", op "l %%cl, %%eax", op "q %%cl, %%rax")
#define MULDIV(op) SIZED(op "b %%bl", op "w %%bx", op "l %%ebx", op "q %%rbx")
#define NOBYTE(i16, i32, i64) switch (size) { case 1: break; case 2: RUN(i16); break; case 4: RUN(i32); break; default: RUN(i64); }

static const u64 vals[] = {
	0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0x7fffffff, 0x80000000, 0x7fffffffffffffffUL,
	0x8000000000000000UL, 0xffffffffffffffffUL, 0x123456789abcdef0UL, 0xfedcba9876543210UL,
};
#define NV (sizeof(vals) / sizeof(vals[0]))
static const u64 counts[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 200};
#define NC (sizeof(counts) / sizeof(counts[0]))
static const u64 flagsIn[] = {0x202, 0xad7};

static u64 mask(int size) { return size == 8 ? ~0UL : (1UL << (size * 8)) - 1; }

int main(void)
{
	static const int sizes[] = {1, 2, 4, 8};
	for (int si = 0; si < 4; si++) {
		int size = sizes[si];
		for (unsigned fi = 0; fi < 2; fi++) {
			u64 fin = flagsIn[fi];
			for (unsigned i = 0; i < NV; i++) {
				for (unsigned j = 0; j < NV; j++) {
					u64 rax = vals[i], rbx = vals[j], rcx = 0x33, rdx = 0x44;
					const char *name;
					name = "add"; BIN("add");
					name = "adc"; BIN("adc");
					name = "sub"; BIN("sub");
					name = "sbb"; BIN("sbb");
					name = "and"; BIN("and");
					name = "or"; BIN("or");
					name = "xor"; BIN("xor");
					name = "cmp"; BIN("cmp");
					name = "test"; BIN("test");
					name = "xadd"; BIN("xadd");
					name = "cmpxchg"; BIN("cmpxchg");
					name = "bt"; NOBYTE("bt %%bx, %%ax", "bt %%ebx, %%eax", "bt %%rbx, %%rax");
					name = "bts"; NOBYTE("bts %%bx, %%ax", "bts %%ebx, %%eax", "bts %%rbx, %%rax");
					name = "btr"; NOBYTE("btr %%bx, %%ax", "btr %%ebx, %%eax", "btr %%rbx, %%rax");
					name = "btc"; NOBYTE("btc %%bx, %%ax", "btc %%ebx, %%eax", "btc %%rbx, %%rax");
					name = "imul2"; NOBYTE("imul %%bx, %%ax", "imul %%ebx, %%eax", "imul %%rbx, %%rax");
					name = "mul"; MULDIV("mul");
					name = "imul"; MULDIV("imul");
					/* divisions that do not raise #DE: rdx:rax small enough */
					if ((rbx & mask(size)) != 0) {
						rdx = 0;
						u64 q = size == 8 ? rax / rbx : (rax & mask(size == 1 ? 2 : size)) / (rbx & mask(size));
						if (size == 8 || q <= mask(size)) {
							name = "div"; MULDIV("div");
						}
						long long sa = size == 1 ? (int16_t)rax : size == 2 ? (int16_t)rax : size == 4 ? (int32_t)rax : (long long)rax;
						long long sb = size == 1 ? (int8_t)rbx : size == 2 ? (int16_t)rbx : size == 4 ? (int32_t)rbx : (long long)rbx;
						rdx = (size != 1 && sa < 0) ? ~0UL : 0;
						if (!(sb == -1 && (size == 8 ? (u64)sa == 0x8000000000000000UL : 0))) {
							long long sq = sa / sb;
							long long lo = size == 1 ? -128 : size == 2 ? -32768 : size == 4 ? -2147483648LL : (long long)0x8000000000000000UL;
							long long hi = size == 1 ? 127 : size == 2 ? 32767 : size == 4 ? 2147483647LL : 0x7fffffffffffffffLL;
							if (size == 8 || (sq >= lo && sq <= hi)) {
								name = "idiv"; MULDIV("idiv");
							}
						}
						rdx = 0x44;
					}
				}
				u64 rax = vals[i], rbx = 0x66, rcx = 0x33, rdx = 0x44;
				const char *name;
				name = "inc"; UN("inc");
				name = "dec"; UN("dec");
				name = "neg"; UN("neg");
				name = "not"; UN("not");
				rbx = vals[i];
				name = "bsf"; NOBYTE("bsf %%bx, %%ax", "bsf %%ebx, %%eax", "bsf %%rbx, %%rax");
				name = "bsr"; NOBYTE("bsr %%bx, %%ax", "bsr %%ebx, %%eax", "bsr %%rbx, %%rax");
				name = "popcnt"; NOBYTE("popcnt %%bx, %%ax", "popcnt %%ebx, %%eax", "popcnt %%rbx, %%rax");
				name = "lzcnt"; NOBYTE("lzcnt %%bx, %%ax", "lzcnt %%ebx, %%eax", "lzcnt %%rbx, %%rax");
				name = "tzcnt"; NOBYTE("tzcnt %%bx, %%ax", "tzcnt %%ebx, %%eax", "tzcnt %%rbx, %%rax");
				for (unsigned k = 0; k < NC; k++) {
					rcx = counts[k];
					rbx = vals[(i * 7 + k) % NV];
					name = "rol"; SHIFT("rol");
					name = "ror"; SHIFT("ror");
					name = "rcl"; SHIFT("rcl");
					name = "rcr"; SHIFT("rcr");
					name = "shl"; SHIFT("shl");
					name = "shr"; SHIFT("shr");
					name = "sar"; SHIFT("sar");
					name = "shld"; NOBYTE("shld %%cl, %%bx, %%ax", "shld %%cl, %%ebx, %%eax", "shld %%cl, %%rbx, %%rax");
					name = "shrd"; NOBYTE("shrd %%cl, %%bx, %%ax", "shrd %%cl, %%ebx, %%eax", "shrd %%cl, %%rbx, %%rax");
				}
			}
		}
	}
	return 0;
}
