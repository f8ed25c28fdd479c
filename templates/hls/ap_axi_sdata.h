// AXI-stream side-channel types for C++ simulation of FINN's HLS code without Vitis.
// Written for qnnc; not Xilinx's header.
#ifndef QNNC_AP_AXI_SDATA_H
#define QNNC_AP_AXI_SDATA_H

#include "ap_int.h"

template <int D, int U = 0, int TI = 0, int TD = 0>
struct ap_axiu {
    ap_uint<D> data;
    ap_uint<(D + 7) / 8> keep;
    ap_uint<(D + 7) / 8> strb;
    ap_uint<1> last;
};

template <int D, int U = 0, int TI = 0, int TD = 0>
struct qdma_axis {
    ap_uint<D> data;
    ap_uint<(D + 7) / 8> keep;
    ap_uint<1> last;
    ap_uint<D> get_data() const { return data; }
    void set_data(ap_uint<D> const &value) { data = value; }
    void set_keep(ap_uint<(D + 7) / 8> const &value) { keep = value; }
    void set_last(ap_uint<1> const &value) { last = value; }
};

#endif
