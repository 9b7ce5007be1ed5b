// Workflows and campaigns: add after an upsert, remove after a lookup.
#include "support.hpp"

namespace ghl_test {
namespace {

constexpr const char *kWorkflow = "78559bb3-b920-461e-b010-7b2a2816d2a9";
constexpr const char *kCampaign = "vCmP4Yk1tQeN9sR2wX7a";

class Membership : public GhlTest {
 protected:
  std::string lookup_path = std::string("/contacts/search/duplicate?locationId=") + kLocation + "&email=ann%40example.com";
  std::string contact = std::string("/contacts/") + kContact;
  void found() { remote.on("GET " + lookup_path, answer(200, {{"contact", {{"id", kContact}}}})); }
};

TEST_F(Membership, AddToWorkflow) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("POST " + contact + "/workflow/" + kWorkflow, answer(200, {{"succeded", true}}));
  Result r = run("add_to_workflow", {{"workflow_id", kWorkflow}, {"event_start_time", "2026-01-15T10:00:00+00:00"}});
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(requests().size(), 2u);
  EXPECT_EQ(requests()[1].method, "POST");
  EXPECT_EQ(requests()[1].url, url(contact + "/workflow/" + kWorkflow));
  expect_headers(requests()[1], true);
  EXPECT_EQ(body(1), (Json{{"eventStartTime", "2026-01-15T10:00:00+00:00"}}));
  EXPECT_EQ(r.data["contact_id"], kContact);
}

TEST_F(Membership, AddToWorkflowWithoutStartTimeSendsAnEmptyObject) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("POST " + contact + "/workflow/" + kWorkflow, answer(200, {{"succeded", true}}));
  ASSERT_TRUE(run("add_to_workflow", {{"workflow_id", kWorkflow}}).is_ok());
  EXPECT_EQ(body(1), Json::object());
}

TEST_F(Membership, RemoveFromWorkflow) {
  found();
  remote.on("DELETE " + contact + "/workflow/" + kWorkflow, answer(200, {{"succeded", true}}));
  ASSERT_TRUE(run("remove_from_workflow", {{"workflow_id", kWorkflow}}).is_ok());
  ASSERT_EQ(requests().size(), 2u);
  EXPECT_EQ(requests()[1].method, "DELETE");
  EXPECT_EQ(requests()[1].url, url(contact + "/workflow/" + kWorkflow));
}

TEST_F(Membership, AddToCampaign) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("POST " + contact + "/campaigns/" + kCampaign, answer(201, {{"succeded", true}}));
  ASSERT_TRUE(run("add_to_campaign", {{"campaign_id", kCampaign}}).is_ok());
  EXPECT_EQ(requests()[1].method, "POST");
  EXPECT_EQ(requests()[1].url, url(contact + "/campaigns/" + kCampaign));
  expect_headers(requests()[1], true);
  EXPECT_EQ(body(1), Json::object());
}

TEST_F(Membership, RemoveFromCampaignHasNoBody) {
  found();
  remote.on("DELETE " + contact + "/campaigns/" + kCampaign, answer(200, {{"succeded", true}}));
  ASSERT_TRUE(run("remove_from_campaign", {{"campaign_id", kCampaign}}).is_ok());
  EXPECT_EQ(requests()[1].method, "DELETE");
  EXPECT_EQ(requests()[1].url, url(contact + "/campaigns/" + kCampaign));
  expect_headers(requests()[1], false);
}

TEST_F(Membership, RemovingAnUnknownContactDoesNothing) {
  remote.on("GET " + lookup_path, answer(200, {{"contact", nullptr}}));
  Result r = run("remove_from_campaign", {{"campaign_id", kCampaign}});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(requests().size(), 1u);
}

TEST_F(Membership, IdsAreEncodedIntoThePath) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("POST " + contact + "/workflow/a%2Fb%3Fc", answer(200, {{"succeded", true}}));
  ASSERT_TRUE(run("add_to_workflow", {{"workflow_id", "a/b?c"}}).is_ok());
}

TEST_F(Membership, MissingIdsAreRefusedBeforeAnyCall) {
  EXPECT_EQ(run("add_to_workflow", Json::object()).message, "parameter 'workflow_id' is required");
  EXPECT_EQ(run("remove_from_workflow", {{"workflow_id", ""}}).message, "parameter 'workflow_id' is required");
  EXPECT_EQ(run("add_to_campaign", Json::object()).message, "parameter 'campaign_id' is required");
  EXPECT_EQ(run("remove_from_campaign", Json::object()).message, "parameter 'campaign_id' is required");
  EXPECT_TRUE(requests().empty());
}

TEST_F(Membership, AnUnknownWorkflowIsPermanent) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("POST " + contact + "/workflow/nope", answer(404, {{"statusCode", 404}, {"message", "Workflow not found"}}));
  Result r = run("add_to_workflow", {{"workflow_id", "nope"}});
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("GoHighLevel POST /contacts/" + std::string(kContact) + "/workflow/nope: HTTP 404"),
            std::string::npos) << r.message;
}

}  // namespace
}  // namespace ghl_test
