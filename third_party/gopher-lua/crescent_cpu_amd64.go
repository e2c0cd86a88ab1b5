// CRESCENT: this file is not part of upstream gopher-lua.

package lua

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

// glibcFMA is whether glibc's ifuncs pick the libm builds made with FMA
// contractions (s_expm1-fma.c...): on CPUs with FMA and AVX2 that the OS
// saves the state of (init_cpu_features' "usable").
var glibcFMA = hasFMAAVX2()

func hasFMAAVX2() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&fma == 0 || ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}
