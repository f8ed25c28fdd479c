// AXI-stream testbench for one FINN RTL node under Verilator (written for qnnc): input words
// (hex, one per line) from argv[1], output words to argv[2], argv[3] output words expected
// within argv[4] cycles; with random valid/ready back-pressure unless argv[5] is "0" (then
// every word is offered as soon as the node can take it and taken as soon as it is given);
// the cycles taken to stderr.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>
#include "verilated.h"
#include "Vtop.h"

static uint32_t nibble(char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

template <typename T> void set_word(T &port, const std::string &hex) {
    T v = 0;
    for (char c : hex) v = (v << 4) | nibble(c);
    port = v;
}
template <std::size_t N> void set_word(VlWide<N> &port, const std::string &hex) {
    for (std::size_t i = 0; i < N; i++) port[i] = 0;
    std::size_t bit = 0;
    for (auto it = hex.rbegin(); it != hex.rend(); ++it, bit += 4) port[bit / 32] |= nibble(*it) << (bit % 32);
}
template <typename T> std::string get_word(const T &port, int width) {
    std::string out;
    for (int bit = ((width + 3) / 4 - 1) * 4; bit >= 0; bit -= 4) out += "0123456789abcdef"[(uint64_t(port) >> bit) & 15];
    return out;
}
template <std::size_t N> std::string get_word(const VlWide<N> &port, int width) {
    std::string out;
    for (int bit = ((width + 3) / 4 - 1) * 4; bit >= 0; bit -= 4) out += "0123456789abcdef"[(port[bit / 32] >> (bit % 32)) & 15];
    return out;
}

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    std::ifstream in(argv[1]);
    std::vector<std::string> words;
    for (std::string line; std::getline(in, line);) if (!line.empty()) words.push_back(line);
    std::size_t expected = std::stoul(argv[3]);
    unsigned long long limit = std::stoull(argv[4]);  // cycles before the node counts as stalled
    bool pressure = argc < 6 || std::string(argv[5]) != "0";
    Vtop *top = new Vtop;
    std::mt19937 rng(1);
    top->ap_clk = 0; top->ap_rst_n = 0;
    for (int i = 0; i < 8; i++) { top->ap_clk ^= 1; top->eval(); }
    top->ap_rst_n = 1;
    std::size_t sent = 0;
    std::vector<std::string> got;
    uint64_t cycles = 0;
    while (got.size() < expected && cycles < limit) {
        bool offer = sent < words.size() && (!pressure || rng() % 4 != 0);
        top->in0_V_TVALID = offer;
        if (offer) set_word(top->in0_V_TDATA, words[sent]);
        top->out0_V_TREADY = !pressure || rng() % 4 != 0;
        top->ap_clk = 0; top->eval();
        bool took = offer && top->in0_V_TREADY;
        bool gave = top->out0_V_TVALID && top->out0_V_TREADY;
        if (gave) got.push_back(get_word(top->out0_V_TDATA, QNNC_OUT_WIDTH));
        top->ap_clk = 1; top->eval();
        if (took) sent++;
        cycles++;
    }
    std::ofstream out(argv[2]);
    for (auto &w : got) out << w << "\n";
    std::fprintf(stderr, "cycles %llu\n", (unsigned long long)cycles);
    delete top;
    return got.size() == expected ? 0 : 1;
}
