// packed_seal.h — a checksum in the HDF5 user block of a packed file, checked before HDF5 reads it.
//
// libhdf5 (1.10) does not survive damaged files: fuzzing the reader found heap overflows,
// use-after-free and endless loops inside H5Fopen and the dataset reads (tests/fuzz/README.md).
// So the writer reserves HDF5's user block (the first 512 bytes, which the library skips) and,
// once the file is closed, writes there the file's size and the SHA-256 of everything after the
// block. The reader checks both with plain reads before the library sees the file: a truncated,
// extended or bit-flipped file gets an error naming it, not a crash. Files without the block
// (written by h5py or by s1c before the seal existed) are read unchecked.
#ifndef S1C_PACKED_SEAL_H
#define S1C_PACKED_SEAL_H

#include "s1c_err.h"

#define S1C_PACKED_USERBLOCK 512

// Writes the seal into the user block of the closed HDF5 file at path (created with a user block
// of S1C_PACKED_USERBLOCK bytes) and fsyncs it.
s1c_status s1c_packed_seal(const char *path);
// OK when path carries no seal, or its size and SHA-256 match the seal. S1C_PACKED_VERIFY=0 in
// the environment skips the check (a file edited on purpose with h5py, or a huge pool read often).
s1c_status s1c_packed_verify(const char *path);

#endif
