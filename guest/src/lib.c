/*
 * Thaw test guest: helpers. The formatting and string functions are used at
 * CPL0 and CPL3 (all pages are user accessible); uart_write does port I/O and
 * runs at CPL0 only (user code reaches it through SYS_WRITE).
 */
#include "guest.h"

/* Polled UART output: one LSR check showing THRE allows 16 bytes (the FIFO). */
void uart_write(const char *s, u64 len)
{
	while (len) {
		while (!(inb(UART_LSR) & 0x20))
			cpu_relax();
		u64 n = len < 16 ? len : 16;
		for (u64 i = 0; i < n; i++)
			outb(UART_THR, (u8)s[i]);
		s += n;
		len -= n;
	}
}

u64 fmt_dec(char *buf, u64 v)
{
	char t[20];
	u64 n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (u64 i = 0; i < n; i++)
		buf[i] = t[n - 1 - i];
	return n;
}

u64 fmt_hex(char *buf, u64 v, int digits)
{
	if (digits == 0) {
		digits = 1;
		while (digits < 16 && (v >> (4 * digits)))
			digits++;
	}
	for (int i = 0; i < digits; i++)
		buf[i] = "0123456789abcdef"[(v >> (4 * (digits - 1 - i))) & 15];
	return (u64)digits;
}

u64 str_len(const char *s)
{
	u64 n = 0;
	while (s[n])
		n++;
	return n;
}

u64 str_cpy(char *dst, const char *s)
{
	u64 n = 0;
	for (; s[n]; n++)
		dst[n] = s[n];
	return n;
}

const char *workload_name(u64 w)
{
	switch (w) {
	case WL_FILL: return "fill";
	case WL_TOUCH: return "touch";
	case WL_FUNCTION: return "function";
	case WL_FAULT: return "fault";
	default: return "unknown";
	}
}

/* gcc may emit calls to these even with -ffreestanding */
void *memset(void *d, int c, unsigned long n)
{
	u8 *p = d;
	while (n--)
		*p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	u8 *p = d;
	const u8 *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}
