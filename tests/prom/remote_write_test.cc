#include "prom/remote_write.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prom/value.h"
#include "snappy.h"

namespace sextant::prom {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr size_t kLimit = 1 << 20;

// Base-128 varint, least significant group first (protobuf and snappy both use it).
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

// A snappy block made of literal elements only (format_description.txt in google/snappy): the
// varint uncompressed length, then for each run of up to 60 bytes a tag byte ((len-1) << 2,
// element type 00 = literal) and the bytes. Written by hand so the decoder is tested against
// the format, not against our own encoder.
std::string SnappyLiterals(absl::string_view raw) {
  std::string out = Varint(raw.size());
  for (size_t i = 0; i < raw.size(); i += 60) {
    const size_t n = std::min<size_t>(60, raw.size() - i);
    out.push_back(static_cast<char>((n - 1) << 2));
    out.append(raw.data() + i, n);
  }
  return out;
}

uint64_t Bits(double d) { return std::bit_cast<uint64_t>(d); }

RemoteWriteRequest RoundTrip(const RemoteWriteRequest& in) {
  auto body = EncodeWriteRequest(in);
  EXPECT_TRUE(body.ok()) << body.status();
  if (!body.ok()) return {};
  auto out = DecodeWriteRequest(*body, kLimit);
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return {};
  return *std::move(out);
}

// A WriteRequest written byte by byte per the protobuf encoding (tag = field << 3 | wire type;
// 0 varint, 1 fixed64, 2 length-delimited), with the field numbers of Prometheus's prompb:
//   WriteRequest   { timeseries = 1; (2 reserved); metadata = 3 }
//   TimeSeries     { labels = 1; samples = 2; exemplars = 3; histograms = 4 }
//   Label          { name = 1; value = 2 }
//   Sample         { double value = 1; int64 timestamp = 2 }
//   Exemplar       { labels = 1; double value = 2; int64 timestamp = 3 }
//   MetricMetadata { type = 1; metric_family_name = 2; help = 4; unit = 5 }
struct Golden {
  // Label{name: "__name__", value: "up"}, 14 bytes.
  std::string label_name = std::string("\x0a\x08__name__\x12\x02up", 14);
  // Label{name: "job", value: "api"}, 10 bytes.
  std::string label_job = std::string(
      "\x0a\x03job\x12\x03"
      "api",
      10);
  // Sample{value: 1.5, timestamp: 1700000000000}, 16 bytes.
  std::string sample1 = std::string(
      "\x09\x00\x00\x00\x00\x00\x00\xf8\x3f"
      "\x10\x80\xd0\x95\xff\xbc\x31",
      16);
  // Sample{value: -2.0, timestamp: -1} (a negative int64 is a 10-byte varint), 20 bytes.
  std::string sample2 = std::string(
      "\x09\x00\x00\x00\x00\x00\x00\x00\xc0"
      "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
      20);
  // Exemplar{labels: [trace_id="abc"], value: 1.5, timestamp: 1}, 28 bytes.
  std::string exemplar = std::string(
      "\x0a\x0f\x0a\x08trace_id\x12\x03"
      "abc"
      "\x11\x00\x00\x00\x00\x00\x00\xf8\x3f"
      "\x18\x01",
      28);
  // A native histogram (field 4), here just {count_int: 5}: 4 bytes with its tag.
  std::string histogram = std::string("\x22\x02\x08\x05", 4);

  std::string Series1() const {
    return "\x0a\x0e" + label_name + "\x0a\x0a" + label_job + "\x12\x10" + sample1 + "\x12\x14" +
           sample2 + "\x1a\x1c" + exemplar + histogram;
  }
  // A series with a native histogram and no float samples: labels {__name__="h"}.
  std::string Series2() const {
    return std::string("\x0a\x0d\x0a\x08__name__\x12\x01h", 15) + histogram;
  }
  // MetricMetadata{type: COUNTER, metric_family_name: "up", help: "Help", unit: "seconds"}.
  std::string Metadata1() const {
    return std::string("\x08\x01\x12\x02up\x22\x04Help\x2a\x07seconds", 21);
  }
  // MetricMetadata{type: 99 (not a known value), metric_family_name: "h"}.
  std::string Metadata2() const { return std::string("\x08\x63\x12\x01h", 5); }

  std::string Request() const {
    return "\x0a\x66" + Series1() + "\x0a\x13" + Series2() +
           std::string("\x10\x01", 2) +  // Field 2 (reserved): unknown, skipped.
           "\x1a\x15" + Metadata1() + "\x1a\x05" + Metadata2();
  }
};

TEST(RemoteWriteDecodeTest, ReadsHandWrittenWireBytes) {
  const Golden g;
  ASSERT_EQ(g.Series1().size(), 0x66u);
  ASSERT_EQ(g.Series2().size(), 0x13u);
  ASSERT_EQ(g.Metadata1().size(), 0x15u);

  auto req = DecodeWriteRequest(SnappyLiterals(g.Request()), kLimit);
  ASSERT_TRUE(req.ok()) << req.status();
  ASSERT_EQ(req->series.size(), 2u);

  const RemoteWriteSeries& s1 = req->series[0];
  EXPECT_THAT(s1.labels, ElementsAre(Label{"__name__", "up"}, Label{"job", "api"}));
  ASSERT_EQ(s1.samples.size(), 2u);
  EXPECT_EQ(s1.samples[0].timestamp_ms, 1700000000000);
  EXPECT_EQ(s1.samples[0].value, 1.5);
  EXPECT_EQ(s1.samples[1].timestamp_ms, -1);
  EXPECT_EQ(s1.samples[1].value, -2.0);

  const RemoteWriteSeries& s2 = req->series[1];
  EXPECT_THAT(s2.labels, ElementsAre(Label{"__name__", "h"}));
  EXPECT_THAT(s2.samples, IsEmpty());

  ASSERT_EQ(req->metadata.size(), 2u);
  EXPECT_EQ(req->metadata[0].type, RemoteWriteMetadata::Type::kCounter);
  EXPECT_EQ(req->metadata[0].metric_family_name, "up");
  EXPECT_EQ(req->metadata[0].help, "Help");
  EXPECT_EQ(req->metadata[0].unit, "seconds");
  EXPECT_EQ(req->metadata[1].type, RemoteWriteMetadata::Type::kUnknown);
  EXPECT_EQ(req->metadata[1].metric_family_name, "h");
  EXPECT_EQ(req->metadata[1].help, "");
}

TEST(RemoteWriteDecodeTest, AcceptsWhatProtobufAcceptsAndRefusesWhatItRefuses) {
  // Label{name:"__name__" name:"up"? no: value "x", then value "up"}: the last occurrence wins.
  const std::string label = std::string("\x0a\x08__name__\x12\x01x\x12\x02up", 17);
  // Unknown fields of every wire type inside a series: varint (7), fixed64 (8), fixed32 (9),
  // a group (10, holding a varint field 1), and a known field number with the wrong wire type
  // (labels as a varint), all skipped.
  const std::string unknown = std::string(
      "\x38\x05"
      "\x41\x01\x02\x03\x04\x05\x06\x07\x08"
      "\x4d\x01\x02\x03\x04"
      "\x53\x08\x01\x54"
      "\x08\x07",
      22);
  const std::string series = "\x0a\x11" + label + unknown;
  const std::string request = "\x0a" + Varint(series.size()) + series;
  FlatWriteRequest flat;
  ASSERT_TRUE(DecodeWriteRequestFlat(SnappyLiterals(request), kLimit, &flat).ok());
  ASSERT_EQ(flat.series.size(), 1u);
  ASSERT_EQ(flat.series[0].labels_end - flat.series[0].labels_begin, 1u);
  EXPECT_EQ(flat.labels[0].name, "__name__");
  EXPECT_EQ(flat.labels[0].value, "up");

  const std::vector<std::string> malformed = {
      std::string("\x0a\x05\x0a\x03", 4),  // a length past the end
      std::string("\x0c", 1),              // an end-group without its start
      std::string("\x53\x08\x01", 3),      // a group that never ends
      std::string("\x53\x08\x01\x5c", 4),  // a group ended by another field's end-group
      std::string("\x02\x00", 2),          // field number 0
      std::string("\x0e\x00", 2),          // wire type 6
      std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12),  // an 11-byte varint
      std::string("\x0a\x02\x12\x05", 4),  // a series whose sample runs past it
  };
  for (const std::string& raw : malformed) {
    absl::Status s = DecodeWriteRequestFlat(SnappyLiterals(raw), kLimit, &flat);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << absl::CHexEscape(raw);
    EXPECT_THAT(s.message(), HasSubstr("protobuf")) << absl::CHexEscape(raw);
  }
}

TEST(RemoteWriteDecodeTest, FlatDecodeReusesItsBuffersAndAgreesWithTheOwningOne) {
  RemoteWriteRequest in;
  for (int i = 0; i < 50; ++i) {
    RemoteWriteSeries s;
    s.labels = {{"__name__", "m"}, {"i", absl::StrCat(i)}};
    for (int j = 0; j < i % 3; ++j) s.samples.push_back({int64_t{j}, j * 0.5});
    in.series.push_back(std::move(s));
  }
  auto body = EncodeWriteRequest(in);
  ASSERT_TRUE(body.ok());
  FlatWriteRequest flat;
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(DecodeWriteRequestFlat(*body, kLimit, &flat).ok());
    ASSERT_EQ(flat.series.size(), 50u);
    for (size_t i = 0; i < 50; ++i) {
      const auto& s = flat.series[i];
      ASSERT_EQ(s.labels_end - s.labels_begin, 2u);
      EXPECT_EQ(flat.labels[s.labels_begin + 1].value, absl::StrCat(i));
      EXPECT_EQ(s.samples_end - s.samples_begin, i % 3);
    }
  }
}

TEST(ValidateSeriesLabelsTest, ViewValidationAgreesWithTheOwningOne) {
  const std::vector<std::vector<LabelView>> cases = {
      {{"__name__", "up"}, {"job", "a"}},
      {{"__name__", "up"}, {"a", ""}, {"job", "a"}},
      {{"job", "a"}, {"__name__", "up"}},
      {{"__name__", "up"}, {"a", "1"}, {"a", "2"}},
      {{"__name__", "1up"}},
      {{"__name__", ""}, {"job", "a"}},
      {{"job", "a"}},
      {{"__name__", "up"}, {"a-b", "c"}},
      {{"__name__", "up"}, {"a", "\xff"}},
  };
  for (const auto& c : cases) {
    std::vector<Label> owned;
    for (const LabelView& l : c) owned.push_back({std::string(l.name), std::string(l.value)});
    absl::Status want = ValidateSeriesLabels(owned, LabelOrder::kRequireSorted).status();
    EXPECT_EQ(ValidateSortedSeriesLabels(c.data(), c.size()), want) << want;
  }
}

TEST(RemoteWriteEncodeTest, WritesTheSameBytesAsTheHandWrittenOnes) {
  // Fields go out in field-number order, as in the golden bytes, so a request without
  // exemplars or histograms serializes to exactly them.
  const Golden g;
  RemoteWriteRequest req;
  req.series.push_back({{{"__name__", "up"}, {"job", "api"}}, {{1700000000000, 1.5}, {-1, -2.0}}});
  req.metadata.push_back({RemoteWriteMetadata::Type::kCounter, "up", "Help", "seconds"});
  const std::string series = "\x0a\x0e" + g.label_name + "\x0a\x0a" + g.label_job + "\x12\x10" +
                             g.sample1 + "\x12\x14" + g.sample2;
  const std::string raw = "\x0a" + Varint(series.size()) + series + "\x1a\x15" + g.Metadata1();

  auto body = EncodeWriteRequest(req);
  ASSERT_TRUE(body.ok()) << body.status();
  std::string uncompressed;
  ASSERT_TRUE(snappy::Uncompress(body->data(), body->size(), &uncompressed));
  EXPECT_EQ(uncompressed, raw);
}

TEST(RemoteWriteRoundTripTest, SpecialFloatsKeepTheirBits) {
  const double prom_nan = std::bit_cast<double>(uint64_t{0x7ff8000000000001});
  const std::vector<double> values = {
      0.0,
      -0.0,
      1.0,
      std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(),
      std::numeric_limits<double>::quiet_NaN(),
      prom_nan,
      StaleNaN(),
      std::numeric_limits<double>::denorm_min(),
      std::numeric_limits<double>::max(),
      std::numeric_limits<double>::lowest(),
  };
  RemoteWriteRequest req;
  RemoteWriteSeries& s = req.series.emplace_back();
  s.labels = {{"__name__", "x"}};
  for (size_t i = 0; i < values.size(); ++i) {
    s.samples.push_back({static_cast<int64_t>(i), values[i]});
  }
  const RemoteWriteRequest out = RoundTrip(req);
  ASSERT_EQ(out.series.size(), 1u);
  ASSERT_EQ(out.series[0].samples.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(Bits(out.series[0].samples[i].value), Bits(values[i])) << "index " << i;
  }
  EXPECT_TRUE(IsStaleNaN(out.series[0].samples[7].value));
  EXPECT_FALSE(IsStaleNaN(out.series[0].samples[6].value));
  EXPECT_TRUE(std::signbit(out.series[0].samples[1].value));
}

TEST(RemoteWriteRoundTripTest, ExtremeTimestamps) {
  const std::vector<int64_t> ts = {std::numeric_limits<int64_t>::min(),
                                   std::numeric_limits<int64_t>::min() + 1,
                                   -1,
                                   0,
                                   1,
                                   1700000000000,
                                   std::numeric_limits<int64_t>::max()};
  RemoteWriteRequest req;
  RemoteWriteSeries& s = req.series.emplace_back();
  s.labels = {{"__name__", "x"}};
  for (int64_t t : ts) s.samples.push_back({t, 1.0});
  const RemoteWriteRequest out = RoundTrip(req);
  ASSERT_EQ(out.series[0].samples.size(), ts.size());
  for (size_t i = 0; i < ts.size(); ++i) {
    EXPECT_EQ(out.series[0].samples[i].timestamp_ms, ts[i]);
  }
}

TEST(RemoteWriteRoundTripTest, LabelsComeBackAsSentEvenWhenInvalid) {
  RemoteWriteRequest req;
  req.series.push_back({{{"z", "1"},
                         {"__name__", "m"},
                         {"empty", ""},
                         {"bad", "\xff\xfe"},
                         {"", "no name"},
                         {"dup", "a"},
                         {"dup", "b"}},
                        {}});
  req.series.push_back({{}, {{5, 5.0}}});
  const RemoteWriteRequest out = RoundTrip(req);
  ASSERT_EQ(out.series.size(), 2u);
  EXPECT_EQ(out.series[0].labels, req.series[0].labels);
  EXPECT_THAT(out.series[0].samples, IsEmpty());
  EXPECT_THAT(out.series[1].labels, IsEmpty());
  ASSERT_EQ(out.series[1].samples.size(), 1u);
}

TEST(RemoteWriteRoundTripTest, MetadataAndEmptyRequest) {
  EXPECT_TRUE(RoundTrip({}).series.empty());
  EXPECT_TRUE(RoundTrip({}).metadata.empty());

  RemoteWriteRequest req;
  for (int t = 0; t <= 7; ++t) {
    req.metadata.push_back({static_cast<RemoteWriteMetadata::Type>(t), "fam", "help \xe2\x9c\x93",
                            t % 2 ? "bytes" : ""});
  }
  const RemoteWriteRequest out = RoundTrip(req);
  ASSERT_EQ(out.metadata.size(), 8u);
  for (int t = 0; t <= 7; ++t) {
    EXPECT_EQ(out.metadata[t].type, static_cast<RemoteWriteMetadata::Type>(t));
    EXPECT_EQ(out.metadata[t].metric_family_name, "fam");
    EXPECT_EQ(out.metadata[t].help, "help \xe2\x9c\x93");
    EXPECT_EQ(out.metadata[t].unit, t % 2 ? "bytes" : "");
  }
}

TEST(RemoteWriteRoundTripTest, ManySeries) {
  RemoteWriteRequest req;
  for (int i = 0; i < 1000; ++i) {
    req.series.push_back({{{"__name__", "m"}, {"i", std::to_string(i)}}, {{i, i * 0.5}}});
  }
  const RemoteWriteRequest out = RoundTrip(req);
  ASSERT_EQ(out.series.size(), 1000u);
  EXPECT_EQ(out.series[999].labels[1].value, "999");
  EXPECT_EQ(out.series[999].samples[0].value, 499.5);
}

TEST(RemoteWriteDecodeTest, CorruptSnappyIsInvalidArgument) {
  const std::vector<std::string> bodies = {
      "",                                          // No length header.
      std::string("\xff\xff\xff\xff\xff\xff", 6),  // Unterminated varint.
      std::string("\x0a\x08"
                  "abc",
                  5),  // Says 10 bytes, holds a 3-byte literal.
      std::string("\x02\x3c"
                  "ab",
                  4),  // Literal of 16 bytes, 2 present.
  };
  for (size_t i = 0; i < bodies.size(); ++i) {
    auto req = DecodeWriteRequest(bodies[i], kLimit);
    ASSERT_FALSE(req.ok()) << i;
    EXPECT_EQ(req.status().code(), absl::StatusCode::kInvalidArgument) << i;
    EXPECT_THAT(req.status().message(), HasSubstr("snappy")) << i;
  }
  // A copy that reaches before the start of the output is corrupt.
  auto req = DecodeWriteRequest(std::string("\x04\x01\x05", 3), kLimit);
  ASSERT_FALSE(req.ok());
  EXPECT_EQ(req.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(req.status().message(), HasSubstr("snappy"));
}

TEST(RemoteWriteDecodeTest, ValidSnappyOfGarbageIsInvalidArgument) {
  const std::vector<std::string> raws = {
      std::string("\x0a\x05"
                  "ab",
                  4),              // Length-delimited field longer than the message.
      std::string("\x0f", 1),      // Wire type 7 does not exist.
      std::string("\x0a", 1),      // Tag without its length.
      "hello, world",              // Text.
      std::string("\x00\x01", 2),  // Field number 0.
  };
  for (const std::string& raw : raws) {
    auto req = DecodeWriteRequest(SnappyLiterals(raw), kLimit);
    ASSERT_FALSE(req.ok()) << raw;
    EXPECT_EQ(req.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(req.status().message(), HasSubstr("protobuf"));
  }
}

TEST(RemoteWriteDecodeTest, SizeLimitIsCheckedFromTheHeader) {
  RemoteWriteRequest req;
  req.series.push_back({{{"__name__", std::string(1000, 'a')}}, {{1, 1}}});
  auto body = EncodeWriteRequest(req);
  ASSERT_TRUE(body.ok());
  auto full = DecodeWriteRequest(*body, kLimit);
  ASSERT_TRUE(full.ok());
  size_t decoded = 0;
  ASSERT_TRUE(snappy::GetUncompressedLength(body->data(), body->size(), &decoded));
  ASSERT_GT(decoded, 1000u);
  EXPECT_TRUE(DecodeWriteRequest(*body, decoded).ok());  // The limit is inclusive.
  auto over = DecodeWriteRequest(*body, decoded - 1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(over.status().message(), HasSubstr(std::to_string(decoded)));

  // A header that claims 1 GiB is refused before anything is allocated or read.
  const std::string liar = Varint(uint64_t{1} << 30) + "x";
  auto huge = DecodeWriteRequest(liar, kLimit);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted);
  // Even with no limit of our own, protobuf's 2 GiB is one.
  auto past_int = DecodeWriteRequest(Varint(uint64_t{1} << 31) + "x", SIZE_MAX);
  ASSERT_FALSE(past_int.ok());
  EXPECT_EQ(past_int.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(RemoteWriteDecodeTest, EmptyProtobufIsAnEmptyRequest) {
  auto req = DecodeWriteRequest(SnappyLiterals(""), kLimit);
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_TRUE(req->series.empty());
  EXPECT_TRUE(req->metadata.empty());
}

TEST(RemoteWriteHeadersTest, AcceptsTheSpecHeaders) {
  EXPECT_TRUE(CheckRemoteWriteHeaders(kRemoteWriteContentType, kRemoteWriteContentEncoding,
                                      kRemoteWriteVersion)
                  .ok());
  EXPECT_TRUE(CheckRemoteWriteHeaders("application/x-protobuf", "snappy", "0.1.0").ok());
}

TEST(RemoteWriteHeadersTest, IsLenientLikePrometheus) {
  // Missing headers mean the 1.0 defaults.
  EXPECT_TRUE(CheckRemoteWriteHeaders("", "", "").ok());
  // Case, surrounding blanks, parameters.
  EXPECT_TRUE(CheckRemoteWriteHeaders(" Application/X-Protobuf ", "Snappy", " 0.1.0 ").ok());
  EXPECT_TRUE(CheckRemoteWriteHeaders("application/x-protobuf;proto=prometheus.WriteRequest",
                                      "snappy", "0.1.0")
                  .ok());
  EXPECT_TRUE(
      CheckRemoteWriteHeaders(
          "application/x-protobuf; charset=utf-8; proto=\"prometheus.WriteRequest\";", "snappy", "")
          .ok());
  // Any 0.x or 1.x version, or one we cannot read.
  EXPECT_TRUE(CheckRemoteWriteHeaders("application/x-protobuf", "snappy", "0.1.1").ok());
  EXPECT_TRUE(CheckRemoteWriteHeaders("application/x-protobuf", "snappy", "1.0").ok());
  EXPECT_TRUE(CheckRemoteWriteHeaders("application/x-protobuf", "snappy", "v1").ok());
}

TEST(RemoteWriteHeadersTest, RejectsWhatWeCannotReadAsUnsupportedMediaType) {
  struct Case {
    const char* content_type;
    const char* encoding;
    const char* version;
    const char* message;
  };
  const Case cases[] = {
      {"application/json", "snappy", "0.1.0", "Content-Type \"application/json\""},
      {"text/plain", "", "", "want application/x-protobuf"},
      {"application/x-protobuf-x", "snappy", "", "Content-Type"},
      {"application/x-protobuf", "gzip", "0.1.0", "Content-Encoding \"gzip\""},
      {"application/x-protobuf", "identity", "", "want snappy"},
      {"application/x-protobuf;proto=io.prometheus.write.v2.Request", "snappy", "2.0.0",
       "io.prometheus.write.v2.Request"},
      {"application/x-protobuf", "snappy", "2.0.0", "version \"2.0.0\""},
      {"application/x-protobuf", "snappy", "10.1", "version"},
      {"application/x-protobuf; proto", "snappy", "", "malformed parameter \"proto\""},
  };
  for (const Case& c : cases) {
    absl::Status s = CheckRemoteWriteHeaders(c.content_type, c.encoding, c.version);
    ASSERT_FALSE(s.ok()) << c.content_type << " " << c.encoding << " " << c.version;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(IsUnsupportedMediaType(s)) << s;
    EXPECT_THAT(s.message(), HasSubstr(c.message));
  }
}

TEST(RemoteWriteHeadersTest, IsUnsupportedMediaTypeOnlyForHeaderErrors) {
  EXPECT_FALSE(IsUnsupportedMediaType(absl::OkStatus()));
  EXPECT_FALSE(IsUnsupportedMediaType(absl::InvalidArgumentError("x")));
  EXPECT_FALSE(IsUnsupportedMediaType(DecodeWriteRequest("", kLimit).status()));
}

TEST(ValidateSeriesLabelsTest, AcceptsAValidSeries) {
  auto ls = ValidateSeriesLabels({{"__name__", "up"}, {"instance", "a:9100"}, {"job", "node"}});
  ASSERT_TRUE(ls.ok()) << ls.status();
  EXPECT_EQ(*ls, Labels({{"__name__", "up"}, {"instance", "a:9100"}, {"job", "node"}}));
  EXPECT_TRUE(ValidateSeriesLabels({{"__name__", "a:b:c"}, {"_x", "\xc3\xa9"}}).ok());
}

TEST(ValidateSeriesLabelsTest, SortsLabelsSentOutOfOrder) {
  auto ls = ValidateSeriesLabels({{"job", "node"}, {"__name__", "up"}, {"instance", "a"}});
  ASSERT_TRUE(ls.ok()) << ls.status();
  EXPECT_THAT(ls->labels(),
              ElementsAre(Label{"__name__", "up"}, Label{"instance", "a"}, Label{"job", "node"}));
}

TEST(ValidateSeriesLabelsTest, RequireSortedRefusesLabelsOutOfOrder) {
  auto ls = ValidateSeriesLabels({{"job", "node"}, {"__name__", "up"}, {"instance", "a"}},
                                 LabelOrder::kRequireSorted);
  EXPECT_EQ(ls.status().message(),
            "series {job=\"node\", __name__=\"up\", instance=\"a\"}: label names not sorted: "
            "\"__name__\" after \"job\"");
  // Duplicates are named as duplicates, sorted input passes.
  EXPECT_THAT(
      ValidateSeriesLabels({{"b", "1"}, {"__name__", "x"}, {"b", "2"}}, LabelOrder::kRequireSorted)
          .status()
          .message(),
      ::testing::HasSubstr("duplicate label name \"b\""));
  EXPECT_TRUE(
      ValidateSeriesLabels({{"__name__", "up"}, {"a", ""}, {"b", "1"}}, LabelOrder::kRequireSorted)
          .ok());
}

TEST(ValidateSeriesLabelsTest, DropsEmptyValues) {
  auto ls = ValidateSeriesLabels({{"__name__", "up"}, {"a", ""}, {"b", "1"}});
  ASSERT_TRUE(ls.ok()) << ls.status();
  EXPECT_EQ(*ls, Labels({{"__name__", "up"}, {"b", "1"}}));
}

absl::Status ValidateStatus(std::vector<Label> labels) {
  return ValidateSeriesLabels(std::move(labels)).status();
}

TEST(ValidateSeriesLabelsTest, MessagesNameTheSeriesAndTheRule) {
  EXPECT_EQ(ValidateStatus({{"__name__", "x"}, {"1a", "b"}}).message(),
            "series {__name__=\"x\", 1a=\"b\"}: invalid label name \"1a\"");
  EXPECT_EQ(ValidateStatus({{"__name__", "x"}, {"a-b", "c"}}).message(),
            "series {__name__=\"x\", a-b=\"c\"}: invalid label name \"a-b\"");
  EXPECT_EQ(ValidateStatus({{"", "v"}, {"__name__", "x"}}).message(),
            "series {\"\"=\"v\", __name__=\"x\"}: invalid label name \"\"");
  EXPECT_EQ(ValidateStatus({{"__name__", "x"}, {"a", "1"}, {"a", "2"}}).message(),
            "series {__name__=\"x\", a=\"1\", a=\"2\"}: duplicate label name \"a\"");
  EXPECT_EQ(ValidateStatus({{"b", "1"}, {"__name__", "x"}, {"b", ""}}).message(),
            "series {b=\"1\", __name__=\"x\", b=\"\"}: duplicate label name \"b\"");
  EXPECT_EQ(ValidateStatus({{"job", "a"}}).message(),
            "series {job=\"a\"}: missing metric name (label __name__)");
  EXPECT_EQ(ValidateStatus({{"__name__", ""}, {"job", "a"}}).message(),
            "series {__name__=\"\", job=\"a\"}: missing metric name (label __name__)");
  EXPECT_EQ(ValidateStatus({}).message(), "series {}: missing metric name (label __name__)");
  EXPECT_EQ(ValidateStatus({{"__name__", "http-requests"}}).message(),
            "series {__name__=\"http-requests\"}: invalid metric name \"http-requests\"");
  EXPECT_EQ(ValidateStatus({{"__name__", "x"}, {"path", "/a\xff"}}).message(),
            "series {__name__=\"x\", path=\"/a\\xff\"}: label path has a value that is not valid "
            "UTF-8");
  EXPECT_EQ(ValidateStatus({{"__name__", "x"}, {"a\nb", "q\"\n"}}).message(),
            "series {__name__=\"x\", \"a\\nb\"=\"q\\\"\\n\"}: invalid label name \"a\\nb\"");
  EXPECT_EQ(ValidateStatus({{"__name__", "x"}, {"a", "1"}}).code(), absl::StatusCode::kOk);
  EXPECT_EQ(ValidateStatus({{"1a", "b"}}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidateSeriesLabelsTest, LongSeriesAreCutShortInMessages) {
  std::vector<Label> labels = {{"__name__", "x"}};
  for (int i = 0; i < 200; ++i) {
    labels.push_back({"l" + std::to_string(i), std::string(50, 'v')});
  }
  labels.push_back({"9bad", "v"});
  absl::Status s = ValidateStatus(labels);
  ASSERT_FALSE(s.ok());
  EXPECT_LT(s.message().size(), 1300u);
  EXPECT_THAT(s.message(), HasSubstr(", ...}: invalid label name \"9bad\""));
}

}  // namespace
}  // namespace sextant::prom
