// The built-in architecture declarations as the build encodes them (lib/arch_codec.h): a run
// decodes them instead of parsing their YAML, so the encoding must give exactly the
// declarations parse_arch_decls gives, every field (ArchDecl's operator== compares them all).
#include "lib/arch_codec.h"

#include <algorithm>

#include "catch.h"

namespace layerplan {

// Generated: the YAML text of each built-in file, and the build's encoding of it.
const std::vector<std::pair<std::string, std::string>>& builtin_architecture_files();
const std::vector<std::pair<std::string, std::string>>& builtin_architecture_encodings();

namespace {

std::vector<ArchDecl> parsed(const SourcePtr& source) {
  Diagnostics diags;
  auto decls = parse_arch_decls(source, diags);
  REQUIRE(decls.has_value());
  return *decls;
}

}  // namespace

TEST_CASE("the embedded encoding of every built-in file decodes to what parsing its YAML gives") {
  const auto& encodings = builtin_architecture_encodings();
  REQUIRE(encodings.size() == builtin_architecture_files().size());
  for (const auto& [name, text] : builtin_architecture_files()) {
    INFO(name);
    SourcePtr source = make_source("builtin:" + name, text);
    const std::vector<ArchDecl> want = parsed(source);
    auto it = std::find_if(encodings.begin(), encodings.end(),
                           [&](const auto& e) { return e.first == name; });
    REQUIRE(it != encodings.end());
    auto got = decode_arch_decls(it->second, source);
    REQUIRE(got.has_value());
    CHECK(*got == want);
    // The build's bytes are today's encoding (the build step re-ran with the YAML).
    CHECK(encode_arch_decls(want, source) == it->second);
    // Locations point into the embedded YAML, as the parsed ones do.
    REQUIRE_FALSE(got->empty());
    CHECK(got->front().architectures == want.front().architectures);
  }
}

TEST_CASE("the registry finds the built-in families through their encodings") {
  ArchRegistry registry = ArchRegistry::builtin();
  const ArchDecl* llama = registry.find("LlamaForCausalLM", "");
  REQUIRE(llama != nullptr);
  CHECK(llama->family == "llama");
  CHECK(llama->source == "builtin:llama.yaml");
  const ArchDecl* deepseek = registry.find("DeepseekV3ForCausalLM", "");
  REQUIRE(deepseek != nullptr);
  REQUIRE(deepseek->mtp.has_value());
  // A location of a decoded declaration names its built-in file and a line in it.
  REQUIRE(deepseek->mtp->location.has_file());
  CHECK(deepseek->mtp->location.file->path == "builtin:deepseek.yaml");
  CHECK(deepseek->mtp->location.line > 0);
  CHECK_FALSE(deepseek->mtp->location.file->line_text(deepseek->mtp->location.line).empty());
}

TEST_CASE("a declaration with every field set survives encoding") {
  SourcePtr source = make_source("arch.yaml", "a: 1\nb: 2\nc: 3\n");
  ArchDecl d;
  d.source = "arch.yaml";
  d.family = "every";
  d.verified_by = {{"EveryForCausalLM", {"#1", "#2"}}};
  d.verified_all = true;
  d.architectures = {"EveryForCausalLM", "Other"};
  d.model_types = {"every"};
  d.aliases = {{"hidden_size", {"d_model", "n_embd"}}};
  d.prefixes.embedding = "e";
  d.prefixes.layer = "l.{i}";
  d.prefixes.attention = "a";
  d.prefixes.mlp = "m";
  d.prefixes.moe = "o";
  d.prefixes.mamba = "s";
  d.prefixes.linear_attention = "la";
  d.prefixes.indexer = "ix";
  d.prefixes.lm_head = "h";
  LayerSource s;
  s.encoding = Encoding::kPeriod;
  s.field = "period";
  s.offset_field = "offset";
  s.values = {{"M", Part::kMamba}, {"*", Part::kMoe}};
  s.value = Part::kSlidingAttention;
  s.match = Part::kLinearAttention;
  s.other = Part::kFullAttention;
  s.location = Location{source, 2, 3};
  d.mixer = {s};
  d.ffn = {s, s};
  MtpDecl m;
  m.count_field = "num_nextn_predict_layers";
  m.count = -3;
  m.layer = "mtp.{j}";
  m.head = "{layer}.head";
  m.embedding = "mtp.embed";
  m.lm_head = "mtp.{j}.lm_head";
  m.mixer = {s};
  m.ffn = {s};
  m.location = Location{source, 3, 1};
  d.mtp = m;
  d.indexer_field = "index_topk";
  d.mamba = MambaVersion::kMamba1;
  d.moe_min_experts = 2;
  d.ignored = {IgnoredSource{false, s, "why", Location{source, 1, 1}}};
  d.tp_limited_by_experts = true;
  d.mlp_divides_world = true;
  d.weights.o_bias = {true, "bias", ""};
  d.weights.shared_expert_gate = {true, "gate", "yes"};
  d.weights.gated_mlp = {false, "", ""};
  const std::vector<ArchDecl> decls = {d, ArchDecl{}};
  auto encoded = encode_arch_decls(decls, source);
  REQUIRE(encoded.has_value());
  auto decoded = decode_arch_decls(*encoded, source);
  REQUIRE(decoded.has_value());
  CHECK(*decoded == decls);
  // A change to any one field shows: the comparison itself can fail.
  (*decoded)[0].weights.sinks.value = true;
  CHECK_FALSE(*decoded == decls);
  // A location in another file cannot be rebuilt: no encoding.
  std::vector<ArchDecl> elsewhere = decls;
  elsewhere[0].mixer[0].location.file = make_source("other.yaml", "x: 1\n");
  CHECK_FALSE(encode_arch_decls(elsewhere, source).has_value());
}

TEST_CASE("a truncated or padded encoding decodes to nothing") {
  const auto& [name, bytes] = builtin_architecture_encodings().front();
  INFO(name);
  SourcePtr source = make_source("builtin:" + name, "");
  REQUIRE(decode_arch_decls(bytes, source).has_value());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CHECK_FALSE(decode_arch_decls(std::string_view(bytes).substr(0, n), source).has_value());
  }
  CHECK_FALSE(decode_arch_decls(bytes + std::string(1, '\0'), source).has_value());
}

}  // namespace layerplan
