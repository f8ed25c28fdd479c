// ap_float for C++ simulation of FINN's HLS code without Vitis: declared only, for the
// finn-hlslib code that names it (qnnc's networks carry no ap_float values).
// Written for qnnc; not Xilinx's header.
#ifndef QNNC_AP_FLOAT_H
#define QNNC_AP_FLOAT_H

template <int W, int E>
class ap_float;

#endif
