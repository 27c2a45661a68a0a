// Implementation of core/malloc_tuning.h.
#include "core/malloc_tuning.h"

#include <malloc.h>

#include <climits>

namespace anvil {

void keep_freed_memory_for_reuse() {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

}  // namespace anvil
