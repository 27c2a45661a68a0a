// Implementation of launch/data_commands.h: flags to algorithms/preference_data.h's converter.
#include "launch/data_commands.h"

#include <iostream>

#include "algorithms/preference_data.h"

namespace anvil {

const cli::Command kConvertHhCommand{
    "data convert-hh",
    "Convert Anthropic HH-RLHF transcripts into conversational preference pairs (JSONL).",
    {},
    {
        {"in", "FILE", "HH-RLHF JSONL ({\"chosen\": transcript, \"rejected\": transcript}; .gz read as is)"},
        {"out", "FILE", "output JSONL: {\"prompt\": [messages], \"chosen\": [assistant], \"rejected\": [assistant]}"},
        {"limit", "N", "stop after N pairs (default: all)"},
    },
    "A transcript is \"\\n\\nHuman: ...\\n\\nAssistant: ...\" turns; the shared turns become the prompt and the two\n"
    "differing last assistant turns the responses. Records that do not split that way are skipped and counted.\n"
    "DPO and reward-model stages read the output with a chat_template (e.g. \"plain\" for base models)."};

int convert_hh_command(const cli::Args& args) {
    ConversionStats stats = convert_hh_rlhf(args.required("in"), args.required("out"), args.get_integer("limit", 0, 0));
    std::cout << "wrote " << stats.written << " pairs to " << args.get("out") << " (" << stats.skipped << " skipped)\n";
    return 0;
}

}  // namespace anvil
