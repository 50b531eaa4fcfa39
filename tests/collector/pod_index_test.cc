#include "collector/pod_index.h"

#include "gtest/gtest.h"

namespace sextant::collector {
namespace {

PodMeta Pod(std::string uid, std::string name, std::vector<ContainerMeta> containers) {
  return PodMeta{std::move(uid), "default", std::move(name), std::move(containers)};
}

TEST(PodIndexTest, FindsPodsByUidWithDashesOrUnderscores) {
  PodIndex index;
  index.Add(Pod("0b3c9f52-aaaa-4bbb-8ccc-123456789abc", "web-1", {}));
  ASSERT_NE(index.FindPod("0b3c9f52-aaaa-4bbb-8ccc-123456789abc"), nullptr);
  const PodMeta* pod = index.FindPod("0b3c9f52_aaaa_4bbb_8ccc_123456789abc");
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(pod->name, "web-1");
  EXPECT_EQ(index.FindPod("ffffffff-aaaa-4bbb-8ccc-123456789abc"), nullptr);
}

TEST(PodIndexTest, FindsContainersByRuntimeId) {
  PodIndex index;
  index.Add(Pod("u1", "web-1", {{"app", "abc123"}, {"sidecar", "def456"}, {"waiting", ""}}));
  auto [pod, container] = index.FindContainer("def456");
  ASSERT_NE(container, nullptr);
  EXPECT_EQ(pod->name, "web-1");
  EXPECT_EQ(container->name, "sidecar");
  EXPECT_EQ(index.FindContainer("").second, nullptr);  // a container without an ID yet
  EXPECT_EQ(index.FindContainer("zzz").first, nullptr);
}

TEST(PodIndexTest, ReplacingAPodForgetsItsOldContainers) {
  PodIndex index;
  index.Add(Pod("u1", "web-1", {{"app", "old"}}));
  index.Add(Pod("u1", "web-1", {{"app", "new"}}));
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.FindContainer("old").second, nullptr);
  EXPECT_NE(index.FindContainer("new").second, nullptr);
}

}  // namespace
}  // namespace sextant::collector
