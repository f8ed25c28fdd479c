// Testbench for one of FINN's IODMA nodes in C++ simulation (written for qnnc; not Xilinx's).
// FINN's generated top function of the node is compiled beside this file with
//   -DQNNC_DMA=<its name> -DQNNC_MEM_W=<AXI-MM width> -DQNNC_STREAM_W=<stream width>
//   -DQNNC_FRAME_BYTES=<bytes per frame> and -DQNNC_DMA_IN (memory -> stream) or not (stream -> memory).
// The memory is what the processor sees: bytes in address order, and a memory word holds
// the byte at its lowest address in its lowest bits (the Zynq is little-endian).
//   in:  dma_tb <memory file, raw bytes> <stream file, hex words written> <frames>
//   out: dma_tb <stream file, hex words> <memory file, raw bytes written> <frames>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "ap_int.h"
#include "hls_stream.h"

typedef ap_uint<QNNC_MEM_W> mem_word;
typedef ap_uint<QNNC_STREAM_W> stream_word;

#ifdef QNNC_DMA_IN
void QNNC_DMA(mem_word *in0_V, hls::stream<stream_word> &out0_V, unsigned int numReps);
#else
void QNNC_DMA(hls::stream<stream_word> &in0_V, mem_word *out0_V, unsigned int numReps);
#endif

static const unsigned BYTES_PER_WORD = QNNC_MEM_W / 8;

static std::string hex(const stream_word &w) {
    std::string out;
    for (int bit = ((QNNC_STREAM_W + 3) / 4 - 1) * 4; bit >= 0; bit -= 4) {
        int hi = bit + 3 < QNNC_STREAM_W ? bit + 3 : QNNC_STREAM_W - 1;
        out += "0123456789abcdef"[(unsigned)w(hi, bit)];
    }
    return out;
}

static stream_word from_hex(const std::string &text) {
    stream_word w = 0;
    for (char c : text) {
        unsigned nibble = c <= '9' ? c - '0' : (c | 32) - 'a' + 10;
        w = (w << 4) | stream_word(nibble);
    }
    return w;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s <in file> <out file> <frames>\n", argv[0]);
        return 2;
    }
    const unsigned frames = std::stoul(argv[3]);
    const std::size_t words = std::size_t(frames) * QNNC_FRAME_BYTES / BYTES_PER_WORD;
    std::vector<mem_word> memory(words);
#ifdef QNNC_DMA_IN
    std::ifstream in(argv[1], std::ios::binary);
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() != words * BYTES_PER_WORD) {
        std::fprintf(stderr, "memory file holds %zu bytes, %u frames need %zu\n", bytes.size(), frames,
                     words * BYTES_PER_WORD);
        return 1;
    }
    for (std::size_t i = 0; i < words; i++)
        for (unsigned b = 0; b < BYTES_PER_WORD; b++)
            memory[i](8 * b + 7, 8 * b) = bytes[i * BYTES_PER_WORD + b];
    hls::stream<stream_word> stream;
    QNNC_DMA(memory.data(), stream, frames);
    std::ofstream out(argv[2]);
    while (!stream.empty()) out << hex(stream.read()) << "\n";
#else
    std::ifstream in(argv[1]);
    hls::stream<stream_word> stream;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) stream.write(from_hex(line));
    QNNC_DMA(stream, memory.data(), frames);
    if (!stream.empty()) {
        std::fprintf(stderr, "%zu stream words were left unread\n", stream.size());
        return 1;
    }
    std::ofstream out(argv[2], std::ios::binary);
    for (std::size_t i = 0; i < words; i++)
        for (unsigned b = 0; b < BYTES_PER_WORD; b++) out.put(char((unsigned)memory[i](8 * b + 7, 8 * b)));
#endif
    return 0;
}
