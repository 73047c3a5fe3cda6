// crc32c.h — CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of checkpoint
// shards: the SSE4.2 crc32 instruction where the CPU has it (several GB/s, so a checkpoint's
// checksum costs little next to writing it), a table otherwise; both give the same value.
#ifndef S1C_CRC32C_H
#define S1C_CRC32C_H

#include <stddef.h>
#include <stdint.h>

// Continues crc over n bytes: start with 0; crc32c("123456789") == 0xE3069283.
uint32_t s1c_crc32c(uint32_t crc, const void *data, size_t n);

#endif
