#include "textflag.h"

// func decodePermuteVBMI(dst, src *byte, n int, table *[256]byte)
//
// Each byte b of src becomes table[b]. Z0..Z3 hold the table; VPERMI2B
// looks a byte's low 7 bits up in Z0:Z1 (table[0:128]) and in Z2:Z3
// (table[128:256]), and the byte's top bit (VPMOVB2M) picks one of the two.
TEXT ·decodePermuteVBMI(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ table+24(FP), AX
	VMOVDQU64 0(AX), Z0
	VMOVDQU64 64(AX), Z1
	VMOVDQU64 128(AX), Z2
	VMOVDQU64 192(AX), Z3

loop:
	VMOVDQU64 (SI), Z4
	VMOVDQA64 Z4, Z5
	VPERMI2B  Z1, Z0, Z5
	VMOVDQA64 Z4, Z6
	VPERMI2B  Z3, Z2, Z6
	VPMOVB2M  Z4, K1
	VPBLENDMB Z6, Z5, K1, Z7
	VMOVDQU64 Z7, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $64, CX
	JNZ  loop

	VZEROUPPER
	RET
