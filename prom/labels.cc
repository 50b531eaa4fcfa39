#include "prom/labels.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sextant::prom {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

constexpr uint64_t kHashSeed = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kHashMul = 0xff51afd7ed558ccdULL;

// Folds `s` into `h` eight bytes at a time (multiply and xor-shift), ending with the length so
// that ("ab", "c") and ("a", "bc") differ. Stable across processes and runs; not cryptographic:
// users compare label sets in full when hashes match.
inline uint64_t Mix(uint64_t h, absl::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kHashMul;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  if (n > 0) std::memcpy(&w, p, n);
  h = (h ^ w ^ (static_cast<uint64_t>(s.size()) << 40)) * kHashMul;
  h ^= h >> 29;
  return h;
}

}  // namespace

bool IsValidLabelName(absl::string_view name) {
  if (name.empty() || !IsNameStart(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return IsNameStart(c) || IsDigit(c); });
}

bool IsValidMetricName(absl::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return IsNameStart(c) || IsDigit(c) || c == ':'; });
}

Labels::Labels(std::vector<Label> sorted) : hash_(ComputeHash(sorted)) {
  if (!sorted.empty()) rep_ = std::make_shared<const std::vector<Label>>(std::move(sorted));
}

const std::vector<Label>& Labels::EmptyLabels() {
  static const std::vector<Label>* const empty = new std::vector<Label>();
  return *empty;
}

Labels::Labels(std::initializer_list<std::pair<absl::string_view, absl::string_view>> labels) {
  std::vector<Label> v;
  v.reserve(labels.size());
  for (const auto& [n, val] : labels) {
    if (!val.empty()) v.push_back(Label{std::string(n), std::string(val)});
  }
  std::sort(v.begin(), v.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
  // Later duplicates win, as with a builder; initializer lists are written by programmers.
  std::vector<Label> out;
  for (auto& l : v) {
    if (!out.empty() && out.back().name == l.name) {
      out.back() = std::move(l);
    } else {
      out.push_back(std::move(l));
    }
  }
  hash_ = ComputeHash(out);
  if (!out.empty()) rep_ = std::make_shared<const std::vector<Label>>(std::move(out));
}

absl::StatusOr<Labels> Labels::FromUnsorted(std::vector<Label> labels) {
  labels.erase(
      std::remove_if(labels.begin(), labels.end(), [](const Label& l) { return l.value.empty(); }),
      labels.end());
  std::sort(labels.begin(), labels.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; });
  for (size_t i = 0; i < labels.size(); ++i) {
    const Label& l = labels[i];
    if (i > 0 && labels[i - 1].name == l.name) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate label name \"", l.name, "\""));
    }
    if (!IsValidLabelName(l.name)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid label name \"", l.name, "\""));
    }
    if (l.name == kMetricNameLabel && !IsValidMetricName(l.value)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid metric name \"", l.value, "\""));
    }
    if (!IsValidUtf8(l.value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("label \"", l.name, "\" has a value that is not valid UTF-8"));
    }
  }
  return Labels(std::move(labels));
}

Labels Labels::FromSortedUnchecked(std::vector<Label> labels) {
  assert(std::is_sorted(labels.begin(), labels.end(),
                        [](const Label& a, const Label& b) { return a.name < b.name; }));
  return Labels(std::move(labels));
}

uint64_t Labels::HashOf(const LabelView* labels, size_t n) {
  uint64_t h = kHashSeed;
  for (size_t i = 0; i < n; ++i) {
    if (labels[i].value.empty()) continue;
    h = Mix(h, labels[i].name);
    h = Mix(h, labels[i].value);
  }
  return h;
}

bool Labels::Equals(const LabelView* views, size_t n) const {
  const std::vector<Label>& mine = labels();
  size_t j = 0;
  for (size_t i = 0; i < n; ++i) {
    if (views[i].value.empty()) continue;
    if (j >= mine.size() || mine[j].name != views[i].name || mine[j].value != views[i].value) {
      return false;
    }
    ++j;
  }
  return j == mine.size();
}

uint64_t Labels::ComputeHash(const std::vector<Label>& labels) {
  uint64_t h = kHashSeed;
  for (const Label& l : labels) {
    h = Mix(h, l.name);
    h = Mix(h, l.value);
  }
  return h;
}

absl::string_view Labels::Get(absl::string_view name) const {
  auto it = std::lower_bound(labels().begin(), labels().end(), name,
                             [](const Label& l, absl::string_view n) { return l.name < n; });
  if (it != labels().end() && it->name == name) return it->value;
  return "";
}

bool Labels::Has(absl::string_view name) const { return !Get(name).empty(); }

Labels Labels::With(absl::string_view name, absl::string_view value) const {
  std::vector<Label> out;
  out.reserve(labels().size() + 1);
  bool placed = false;
  for (const Label& l : labels()) {
    if (!placed && l.name >= name) {
      if (!value.empty()) out.push_back(Label{std::string(name), std::string(value)});
      placed = true;
      if (l.name == name) continue;
    }
    out.push_back(l);
  }
  if (!placed && !value.empty()) out.push_back(Label{std::string(name), std::string(value)});
  return Labels(std::move(out));
}

Labels Labels::Without(std::initializer_list<absl::string_view> names) const {
  std::vector<Label> out;
  out.reserve(labels().size());
  for (const Label& l : labels()) {
    if (std::find(names.begin(), names.end(), l.name) == names.end()) out.push_back(l);
  }
  return Labels(std::move(out));
}

std::string EscapeLabelValue(absl::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Labels::ToString() const {
  std::string out = "{";
  for (size_t i = 0; i < labels().size(); ++i) {
    if (i > 0) out += ", ";
    absl::StrAppend(&out, labels()[i].name, "=\"", EscapeLabelValue(labels()[i].value), "\"");
  }
  out += "}";
  return out;
}

int Labels::Compare(const Labels& a, const Labels& b) {
  size_t n = std::min(a.labels().size(), b.labels().size());
  for (size_t i = 0; i < n; ++i) {
    if (int c = a.labels()[i].name.compare(b.labels()[i].name); c != 0) return c < 0 ? -1 : 1;
    if (int c = a.labels()[i].value.compare(b.labels()[i].value); c != 0) return c < 0 ? -1 : 1;
  }
  if (a.labels().size() == b.labels().size()) return 0;
  return a.labels().size() < b.labels().size() ? -1 : 1;
}

}  // namespace sextant::prom
