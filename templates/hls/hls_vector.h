// hls::vector for C++ simulation of FINN's HLS code without Vitis: a fixed-size array.
// Written for qnnc; not Xilinx's header.
#ifndef QNNC_HLS_VECTOR_H
#define QNNC_HLS_VECTOR_H

#include <array>
#include <cstddef>

namespace hls {

template <typename T, std::size_t N>
class vector {
  public:
    vector() = default;
    vector(const T &value) { data_.fill(value); }
    T &operator[](std::size_t i) { return data_[i]; }
    const T &operator[](std::size_t i) const { return data_[i]; }
    static constexpr std::size_t size() { return N; }

  private:
    std::array<T, N> data_{};
};

}  // namespace hls

#endif
