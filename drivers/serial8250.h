/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 16550A-compatible UART at COM1 (ports 0x3f8-0x3ff, ISA IRQ 4), the guest's
 * console. Transmitted bytes go to vm->console_out as they are written;
 * received bytes are queued by the console thread through serial8250__rx().
 */
#ifndef DRIVERS_SERIAL8250_H
#define DRIVERS_SERIAL8250_H

#include <stddef.h>

struct vm;

#define COM1_PORT 0x3f8
#define COM1_IRQ  4

int serial8250__init(struct vm *vm);
void serial8250__exit(struct vm *vm);

/* Queues up to len received bytes; returns how many fit. dev_lock held. */
size_t serial8250__rx(struct vm *vm, const char *buf, size_t len);
/* Free space in the receive FIFO. dev_lock held. */
size_t serial8250__rx_room(struct vm *vm);

#endif
