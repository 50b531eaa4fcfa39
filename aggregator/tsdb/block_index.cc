#include "aggregator/tsdb/block_index.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "aggregator/tsdb/crc32c.h"

// Index file format (Prometheus's index v2, tsdb/docs/format/index.md). Integers are big-endian;
// "section" means  len <be32> | body <len bytes> | CRC32C(body) <be32>.
//   magic 0xBAAAD700 <be32> | version 2 <1 byte>
//   symbols:  section{ #symbols <be32> | (len <uvarint> | bytes)... }, strings sorted; series
//             name them by their position in this list.
//   series:   each starts at a 16-byte boundary; its reference is offset / 16:
//             len <uvarint> | body | CRC32C(body) <be32>, body =
//             #labels <uvarint> | (name symbol <uvarint> | value symbol <uvarint>)... |
//             #chunks <uvarint> | c0.mint <varint> | c0.maxt - c0.mint <uvarint> |
//             c0.ref <uvarint> | then per chunk i: ci.mint - c(i-1).maxt <uvarint> |
//             ci.maxt - ci.mint <uvarint> | ci.ref - c(i-1).ref <varint>
//   label indices (4-byte aligned, one per name; unused by readers but written as Prometheus
//             does): section{ #names=1 <be32> | #values <be32> | value symbol <be32>... }
//   postings (4-byte aligned, one per label pair sorted by name then value, the all-series list
//             under name "" and value "" first): section{ #refs <be32> | series ref <be32>... }
//   label offset table: section{ #entries <be32> | (1 <byte> | name <uvarint str> |
//             label index offset <uvarint>)... }
//   postings offset table: section{ #entries <be32> | (2 <byte> | name <uvarint str> |
//             value <uvarint str> | postings offset <uvarint>)... }
//   TOC (the last 52 bytes): offsets <be64> of symbols, series, label indices, label offset
//             table, postings, postings offset table | CRC32C of those 48 bytes <be32>
// Zero padding may sit between sections.

namespace sextant::tsdb {
namespace {

constexpr uint32_t kIndexMagic = 0xBAAAD700;
constexpr char kIndexVersion = 2;
constexpr size_t kHeaderSize = 5;
constexpr size_t kTocSize = 6 * 8 + 4;

class Encbuf {
 public:
  std::string& str() { return b_; }
  size_t size() const { return b_.size(); }
  void Byte(uint8_t v) { b_.push_back(static_cast<char>(v)); }
  void Be32(uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b_.push_back(static_cast<char>(v >> s));
  }
  void Be64(uint64_t v) {
    for (int s = 56; s >= 0; s -= 8) b_.push_back(static_cast<char>(v >> s));
  }
  void Uvarint(uint64_t v) {
    while (v >= 0x80) {
      b_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    b_.push_back(static_cast<char>(v));
  }
  void Varint(int64_t v) {
    Uvarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void Str(absl::string_view s) {
    Uvarint(s.size());
    b_.append(s.data(), s.size());
  }
  void Pad(size_t align) {
    while (b_.size() % align != 0) b_.push_back('\0');
  }
  // Appends len <be32> | body | CRC32C <be32>.
  void Section(absl::string_view body) {
    Be32(static_cast<uint32_t>(body.size()));
    b_.append(body.data(), body.size());
    Be32(Crc32c(body));
  }

 private:
  std::string b_;
};

// Reads from a bounded buffer; any read past the end sets a sticky error and returns zero.
class Decbuf {
 public:
  explicit Decbuf(absl::string_view b) : b_(b) {}
  bool ok() const { return ok_; }
  size_t remaining() const { return b_.size() - pos_; }
  uint8_t Byte() {
    if (!ok_ || remaining() < 1) return Bad();
    return static_cast<uint8_t>(b_[pos_++]);
  }
  uint32_t Be32() {
    if (!ok_ || remaining() < 4) return Bad();
    const auto* u = reinterpret_cast<const unsigned char*>(b_.data() + pos_);
    pos_ += 4;
    return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
  }
  uint64_t Be64() {
    const uint64_t hi = Be32();
    return (hi << 32) | Be32();
  }
  uint64_t Uvarint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (!ok_ || remaining() < 1) return Bad();
      const auto byte = static_cast<unsigned char>(b_[pos_++]);
      if (shift == 63 && byte > 1) return Bad();
      v |= uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) return v;
    }
    return Bad();
  }
  int64_t Varint() {
    const uint64_t u = Uvarint();
    return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
  }
  absl::string_view Str() {
    const uint64_t n = Uvarint();
    if (!ok_ || n > remaining()) {
      Bad();
      return {};
    }
    absl::string_view s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  uint8_t Bad() {
    ok_ = false;
    return 0;
  }
  absl::string_view b_;
  size_t pos_ = 0;
  bool ok_ = true;
};

uint32_t ReadBe32(absl::string_view b, size_t pos) {
  Decbuf d(b.substr(pos, 4));
  return d.Be32();
}

}  // namespace

absl::StatusOr<std::string> EncodeIndex(const std::vector<IndexSeries>& series) {
  for (size_t i = 1; i < series.size(); ++i) {
    if (prom::Labels::Compare(*series[i - 1].labels, *series[i].labels) >= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "index: series ", i, " ", series[i].labels->ToString(), " out of order or duplicate"));
    }
  }
  // Symbols: every label name and value, sorted.
  std::vector<absl::string_view> symbols;
  for (const IndexSeries& s : series) {
    for (const prom::Label& l : *s.labels) {
      symbols.push_back(l.name);
      symbols.push_back(l.value);
    }
  }
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
  absl::flat_hash_map<absl::string_view, uint32_t> symbol_ref;
  symbol_ref.reserve(symbols.size());
  for (size_t i = 0; i < symbols.size(); ++i) symbol_ref[symbols[i]] = static_cast<uint32_t>(i);

  Encbuf out;
  out.Be32(kIndexMagic);
  out.Byte(kIndexVersion);
  uint64_t toc[6] = {};
  toc[0] = out.size();
  {
    Encbuf body;
    body.Be32(static_cast<uint32_t>(symbols.size()));
    for (absl::string_view s : symbols) body.Str(s);
    out.Section(body.str());
  }

  // Series, collecting postings (label pair -> series refs) on the way.
  std::map<std::pair<absl::string_view, absl::string_view>, std::vector<uint32_t>> postings;
  std::vector<uint32_t>& all = postings[{"", ""}];
  out.Pad(16);
  toc[1] = out.size();
  for (const IndexSeries& s : series) {
    out.Pad(16);
    if (out.size() / 16 > 0xffffffffu) {
      return absl::InvalidArgumentError("index: series section past 64 GiB");
    }
    const auto ref = static_cast<uint32_t>(out.size() / 16);
    all.push_back(ref);
    Encbuf body;
    body.Uvarint(s.labels->size());
    for (const prom::Label& l : *s.labels) {
      body.Uvarint(symbol_ref[l.name]);
      body.Uvarint(symbol_ref[l.value]);
      postings[{l.name, l.value}].push_back(ref);
    }
    body.Uvarint(s.chunks.size());
    // Unsigned arithmetic: deltas that go backwards (overlapping chunks) wrap and decode back.
    uint64_t prev_maxt = 0, prev_ref = 0;
    for (size_t i = 0; i < s.chunks.size(); ++i) {
      const IndexChunkMeta& c = s.chunks[i];
      const auto mint = static_cast<uint64_t>(c.min_time);
      const auto maxt = static_cast<uint64_t>(c.max_time);
      if (i == 0) {
        body.Varint(c.min_time);
        body.Uvarint(maxt - mint);
        body.Uvarint(c.ref);
      } else {
        body.Uvarint(mint - prev_maxt);
        body.Uvarint(maxt - mint);
        body.Varint(static_cast<int64_t>(c.ref - prev_ref));
      }
      prev_maxt = maxt;
      prev_ref = c.ref;
    }
    out.Uvarint(body.size());
    out.str().append(body.str());
    out.Be32(Crc32c(body.str()));
  }

  // Label indices: the values of each name as symbol references.
  out.Pad(4);
  toc[2] = out.size();
  std::vector<std::pair<absl::string_view, uint64_t>> label_index_offsets;
  for (auto it = postings.begin(); it != postings.end();) {
    const absl::string_view name = it->first.first;
    auto end = it;
    while (end != postings.end() && end->first.first == name) ++end;
    if (!name.empty()) {
      out.Pad(4);
      label_index_offsets.emplace_back(name, out.size());
      Encbuf body;
      body.Be32(1);
      body.Be32(static_cast<uint32_t>(std::distance(it, end)));
      for (auto v = it; v != end; ++v) body.Be32(symbol_ref[v->first.second]);
      out.Section(body.str());
    }
    it = end;
  }

  // Postings lists.
  out.Pad(4);
  toc[4] = out.size();
  std::vector<uint64_t> postings_offsets;
  for (const auto& [pair, refs] : postings) {
    out.Pad(4);
    postings_offsets.push_back(out.size());
    Encbuf body;
    body.Be32(static_cast<uint32_t>(refs.size()));
    for (uint32_t r : refs) body.Be32(r);
    out.Section(body.str());
  }

  toc[3] = out.size();
  {
    Encbuf body;
    body.Be32(static_cast<uint32_t>(label_index_offsets.size()));
    for (const auto& [name, off] : label_index_offsets) {
      body.Byte(1);
      body.Str(name);
      body.Uvarint(off);
    }
    out.Section(body.str());
  }

  toc[5] = out.size();
  {
    Encbuf body;
    body.Be32(static_cast<uint32_t>(postings.size()));
    size_t i = 0;
    for (const auto& [pair, refs] : postings) {
      body.Byte(2);
      body.Str(pair.first);
      body.Str(pair.second);
      body.Uvarint(postings_offsets[i++]);
    }
    out.Section(body.str());
  }

  Encbuf t;
  for (uint64_t off : toc) t.Be64(off);
  out.str().append(t.str());
  out.Be32(Crc32c(t.str()));
  if (out.size() > 0xffffffffu * uint64_t{16}) {
    return absl::InvalidArgumentError("index: file past 64 GiB");
  }
  return std::move(out.str());
}

absl::Status IndexReader::Fail(absl::string_view what) const {
  return absl::DataLossError(absl::StrCat("index ", name_, ": ", what));
}

absl::StatusOr<std::unique_ptr<IndexReader>> IndexReader::Open(const std::string& path) {
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(path);
  if (!file.ok()) return file.status();
  auto r = std::unique_ptr<IndexReader>(new IndexReader());
  r->file_ = *std::move(file);
  r->data_ = r->file_->data();
  r->name_ = path;
  if (absl::Status s = r->Parse(); !s.ok()) return s;
  return r;
}

absl::StatusOr<std::unique_ptr<IndexReader>> IndexReader::FromBytes(absl::string_view data,
                                                                    std::string name) {
  auto r = std::unique_ptr<IndexReader>(new IndexReader());
  r->data_ = data;
  r->name_ = std::move(name);
  if (absl::Status s = r->Parse(); !s.ok()) return s;
  return r;
}

namespace {

// The body of the section at `offset` (len <be32> | body | CRC <be32>), checksum verified; an
// error message on damage.
absl::StatusOr<absl::string_view> ReadSection(absl::string_view data, uint64_t offset,
                                              absl::string_view what) {
  if (offset > data.size() || data.size() - offset < 8) {
    return absl::DataLossError(absl::StrCat(what, " at ", offset, ": out of range"));
  }
  const uint64_t len = ReadBe32(data, offset);
  if (data.size() - offset - 8 < len) {
    return absl::DataLossError(
        absl::StrCat(what, " at ", offset, ": length ", len, " past the end of the file"));
  }
  absl::string_view body = data.substr(offset + 4, len);
  if (Crc32c(body) != ReadBe32(data, offset + 4 + len)) {
    return absl::DataLossError(absl::StrCat(what, " at ", offset, ": checksum mismatch"));
  }
  return body;
}

}  // namespace

absl::Status IndexReader::Parse() {
  if (data_.size() < kHeaderSize + kTocSize) {
    return Fail(absl::StrCat(data_.size(), " bytes, too short for an index"));
  }
  if (ReadBe32(data_, 0) != kIndexMagic) {
    return Fail(absl::StrFormat("bad magic 0x%08x", ReadBe32(data_, 0)));
  }
  if (data_[4] != kIndexVersion) {
    return Fail(absl::StrCat("unsupported version ", int{data_[4]}));
  }
  const size_t toc_at = data_.size() - kTocSize;
  absl::string_view toc_bytes = data_.substr(toc_at, 48);
  if (Crc32c(toc_bytes) != ReadBe32(data_, toc_at + 48)) {
    return Fail("table of contents checksum mismatch");
  }
  Decbuf toc(toc_bytes);
  const uint64_t symbols_off = toc.Be64();
  toc.Be64();  // series
  toc.Be64();  // label indices
  toc.Be64();  // label offset table
  toc.Be64();  // postings
  const uint64_t postings_table_off = toc.Be64();

  // Symbols.
  {
    absl::StatusOr<absl::string_view> body = ReadSection(data_, symbols_off, "symbol table");
    if (!body.ok()) return Fail(body.status().message());
    Decbuf d(*body);
    const uint32_t n = d.Be32();
    if (n > d.remaining()) return Fail(absl::StrCat("symbol table: ", n, " symbols claimed"));
    symbols_.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      absl::string_view s = d.Str();
      if (!d.ok()) return Fail(absl::StrCat("symbol table: symbol ", i, " truncated"));
      symbols_.push_back(s);
    }
  }

  // Postings offset table: label pairs sorted by name then value.
  if (postings_table_off == 0) return absl::OkStatus();
  absl::StatusOr<absl::string_view> body =
      ReadSection(data_, postings_table_off, "postings offset table");
  if (!body.ok()) return Fail(body.status().message());
  Decbuf d(*body);
  const uint32_t n = d.Be32();
  if (n > d.remaining()) return Fail(absl::StrCat("postings offset table: ", n, " entries"));
  std::vector<std::pair<absl::string_view, uint64_t>>* values = nullptr;
  absl::string_view prev_name, prev_value;
  for (uint32_t i = 0; i < n; ++i) {
    const uint8_t keys = d.Byte();
    const absl::string_view name = d.Str();
    const absl::string_view value = d.Str();
    const uint64_t off = d.Uvarint();
    if (!d.ok()) return Fail(absl::StrCat("postings offset table: entry ", i, " truncated"));
    if (keys != 2) {
      return Fail(absl::StrCat("postings offset table: entry ", i, " has ", int{keys}, " keys"));
    }
    if (i > 0 && (name < prev_name || (name == prev_name && value <= prev_value))) {
      return Fail(absl::StrCat("postings offset table: entry ", i, " out of order"));
    }
    if (values == nullptr || i == 0 || name != prev_name) values = &postings_[std::string(name)];
    values->emplace_back(value, off);
    prev_name = name;
    prev_value = value;
  }
  return absl::OkStatus();
}

std::vector<std::string> IndexReader::LabelNames() const {
  std::vector<std::string> out;
  for (const auto& [name, values] : postings_) {
    if (!name.empty()) out.push_back(name);
  }
  return out;
}

std::vector<std::string> IndexReader::LabelValues(absl::string_view name) const {
  std::vector<std::string> out;
  auto it = postings_.find(name);
  if (it == postings_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& [value, off] : it->second) out.emplace_back(value);
  return out;
}

absl::StatusOr<std::vector<uint32_t>> IndexReader::Postings(absl::string_view name,
                                                            absl::string_view value) const {
  std::vector<uint32_t> out;
  auto it = postings_.find(name);
  if (it == postings_.end()) return out;
  const auto& values = it->second;
  auto v = std::lower_bound(values.begin(), values.end(), value,
                            [](const auto& e, absl::string_view x) { return e.first < x; });
  if (v == values.end() || v->first != value) return out;
  const std::string what = absl::StrCat("postings of ", name, "=\"", value, "\"");
  absl::StatusOr<absl::string_view> body = ReadSection(data_, v->second, what);
  if (!body.ok()) return Fail(body.status().message());
  Decbuf d(*body);
  const uint32_t n = d.Be32();
  if (!d.ok() || d.remaining() != uint64_t{n} * 4) {
    return Fail(absl::StrCat(what, ": ", n, " entries in ", body->size(), " bytes"));
  }
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t ref = d.Be32();
    if (!out.empty() && ref <= out.back()) return Fail(absl::StrCat(what, ": not ascending"));
    out.push_back(ref);
  }
  return out;
}

absl::Status IndexReader::Series(uint32_t ref, prom::Labels* labels,
                                 std::vector<IndexChunkMeta>* chunks) const {
  const uint64_t off = uint64_t{ref} * 16;
  const std::string what = absl::StrCat("series ", ref, " at ", off);
  if (off >= data_.size()) return Fail(absl::StrCat(what, ": out of range"));
  Decbuf head(data_.substr(off, 10));
  const uint64_t len = head.Uvarint();
  if (!head.ok()) return Fail(absl::StrCat(what, ": bad length"));
  const uint64_t start = off + (std::min<uint64_t>(10, data_.size() - off) - head.remaining());
  if (len > data_.size() || data_.size() - start < len + 4) {
    return Fail(absl::StrCat(what, ": length ", len, " past the end of the file"));
  }
  absl::string_view body = data_.substr(start, len);
  if (Crc32c(body) != ReadBe32(data_, start + len)) {
    return Fail(absl::StrCat(what, ": checksum mismatch"));
  }
  Decbuf d(body);
  const uint64_t nl = d.Uvarint();
  if (nl > d.remaining()) return Fail(absl::StrCat(what, ": ", nl, " labels claimed"));
  std::vector<prom::Label> ls;
  ls.reserve(nl);
  for (uint64_t i = 0; i < nl; ++i) {
    const uint64_t n = d.Uvarint();
    const uint64_t v = d.Uvarint();
    if (!d.ok()) return Fail(absl::StrCat(what, ": labels truncated"));
    if (n >= symbols_.size() || v >= symbols_.size()) {
      return Fail(absl::StrCat(what, ": symbol reference out of range"));
    }
    if (symbols_[n].empty() || symbols_[v].empty() ||
        (!ls.empty() && symbols_[n] <= ls.back().name)) {
      return Fail(absl::StrCat(what, ": labels empty or out of order"));
    }
    ls.push_back({std::string(symbols_[n]), std::string(symbols_[v])});
  }
  const uint64_t nc = d.Uvarint();
  if (!d.ok() || nc > d.remaining()) return Fail(absl::StrCat(what, ": bad chunk count"));
  chunks->clear();
  chunks->reserve(nc);
  uint64_t t0 = 0, cref = 0;
  for (uint64_t i = 0; i < nc; ++i) {
    uint64_t mint;
    if (i == 0) {
      mint = static_cast<uint64_t>(d.Varint());
    } else {
      mint = t0 + d.Uvarint();
    }
    const uint64_t maxt = mint + d.Uvarint();
    if (i == 0) {
      cref = d.Uvarint();
    } else {
      cref += static_cast<uint64_t>(d.Varint());
    }
    t0 = maxt;
    chunks->push_back({static_cast<int64_t>(mint), static_cast<int64_t>(maxt), cref});
  }
  if (!d.ok()) return Fail(absl::StrCat(what, ": chunk metas truncated"));
  *labels = prom::Labels::FromSortedUnchecked(std::move(ls));
  return absl::OkStatus();
}

}  // namespace sextant::tsdb
