// Included before every simulated node's code (g++ -include): what Vitis' headers would
// provide and the headers here lack. Written for qnnc; not Xilinx's.
#ifndef QNNC_SIM_H
#define QNNC_SIM_H

#include <cstddef>

typedef _Float16 half;  // Vitis' half-precision type, for code that names it

// ap_int's root type, extended with the sign_flag member that Vitis' ap_int has and the
// open-source headers lack (finn-hlslib's LabelSelect asserts on it).
#define __AP_INT_H__  // ap_common.h may only be read through ap_int.h
#include "ap_common.h"
#undef __AP_INT_H__
template <int _AP_W, bool _AP_S>
struct qnnc_sim_root : ssdm_int_sim<_AP_W, _AP_S> {
    static const bool sign_flag = _AP_S;
};
#undef _AP_ROOT_TYPE
#define _AP_ROOT_TYPE qnnc_sim_root
#include "ap_int.h"

// The inverse of finn-hlslib's flatten(): split an ap_uint into N elements of W bits each
// (newer finn-hlslib has it; FINN's npy2apintstream.hpp calls it).
template <typename T, std::size_t N, int W>
void unflatten(T (&buffer)[N], ap_uint<W> const &packed) {
    constexpr int E = T::width;
    for (std::size_t j = 0; j < N; j++) {
        ap_uint<E> bits = packed((j + 1) * E - 1, j * E);
        T value;
        value(E - 1, 0) = bits;
        buffer[j] = value;
    }
}

#endif
