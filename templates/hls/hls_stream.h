// hls::stream for C++ simulation of FINN's HLS code without Vitis: an unbounded FIFO.
// Written for qnnc (Apache-2.0 like qnnc); not Xilinx's header.
#ifndef QNNC_HLS_STREAM_H
#define QNNC_HLS_STREAM_H

#include <cstddef>
#include <deque>
#include <iostream>
#include <stdexcept>
#include <string>

namespace hls {

template <typename T, int DEPTH = 0>
class stream {
  public:
    stream() = default;
    explicit stream(const char *name) : name_(name) {}
    stream(const stream &) = delete;
    stream &operator=(const stream &) = delete;

    bool empty() const { return data_.empty(); }
    bool full() const { return false; }
    std::size_t size() const { return data_.size(); }

    T read() {
        if (data_.empty()) {
            throw std::runtime_error("read from empty hls::stream '" + name_ + "'");
        }
        T value = data_.front();
        data_.pop_front();
        return value;
    }
    void read(T &value) { value = read(); }
    bool read_nb(T &value) {
        if (data_.empty()) return false;
        value = read();
        return true;
    }
    void write(const T &value) { data_.push_back(value); }
    bool write_nb(const T &value) {
        write(value);
        return true;
    }
    void operator>>(T &value) { value = read(); }
    void operator<<(const T &value) { write(value); }

  private:
    std::string name_ = "stream";
    std::deque<T> data_;
};

}  // namespace hls

#endif
