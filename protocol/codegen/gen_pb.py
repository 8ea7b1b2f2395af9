#!/usr/bin/env python3
"""Generates protocol/src/pb/*.rs from the schema in pb_schema.py.

The schema is this project's own transcription of the OpenIM v3.8 wire schema
(message names, field names, numbers and types as documented in
/work/shared/protocol/*.md). Each generated struct derives `prost::Message`
(binary protobuf) and serde (the Go `encoding/json` form: proto field names,
every field present, `null` for empty lists/maps and unset messages, bytes as
padded base64).

Also writes protocol/tests/generated/arb.rs (proptest strategies for every message).

Run: python3 protocol/codegen/gen_pb.py && rustfmt --edition 2024 protocol/src/pb/*.rs protocol/tests/generated/arb.rs
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pb_schema import MODULES  # noqa: E402

SCALARS = {
    "string": ("String", "string"),
    "int32": ("i32", "int32"),
    "int64": ("i64", "int64"),
    "uint32": ("u32", "uint32"),
    "uint64": ("u64", "uint64"),
    "bool": ("bool", "bool"),
}
KEYWORDS = {"type", "match", "ref", "move", "mod", "use", "fn", "loop", "in", "as", "box", "where"}


def snake(name):
    n = name.replace("IDs", "Ids").replace("ID", "Id").replace("URL", "Url").replace("iOS", "Ios")
    n = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", n)
    n = n.lower()
    if n in KEYWORDS:
        n = "r#" + n
    return n


def rust_type_path(t, module):
    if "::" in t:
        mod, name = t.split("::")
        if mod == module:
            return name
        return f"super::{mod}::{name}"
    return t


def prost_scalar_for_map(t):
    return SCALARS[t][1] if t in SCALARS else "message"


def field_code(f, module, enums):
    name, typ, tag, doc = f[0], f[1], f[2], f[3]
    rust_name = f[4] if len(f) > 4 else snake(name)
    lines = []
    for d in doc.split("\n"):
        lines.append(f"    /// {d}" if d else "    ///")
    lines.append(f"    ///")
    lines.append(f"    /// Wire: `{name}` #{tag} ({typ}).")
    serde = [f'rename = "{name}"']
    if typ.startswith("map<"):
        k, v = typ[4:-1].split(",")
        k, v = k.strip(), v.strip()
        vr = SCALARS[v][0] if v in SCALARS else rust_type_path(v, module)
        kr = SCALARS[k][0]
        lines.append(f'    #[prost(btree_map = "{SCALARS[k][1]}, {prost_scalar_for_map(v)}", tag = "{tag}")]')
        serde.append('with = "crate::pb::json::nullable_map"')
        rt = f"::std::collections::BTreeMap<{kr}, {vr}>"
    elif typ.startswith("rep "):
        inner = typ[4:]
        serde.append('with = "crate::pb::json::nullable_vec"')
        if inner in SCALARS:
            lines.append(f'    #[prost({SCALARS[inner][1]}, repeated, tag = "{tag}")]')
            rt = f"::prost::alloc::vec::Vec<{SCALARS[inner][0]}>"
        else:
            lines.append(f'    #[prost(message, repeated, tag = "{tag}")]')
            rt = f"::prost::alloc::vec::Vec<{rust_type_path(inner, module)}>"
    elif typ.startswith("enum "):
        en = typ[5:]
        lines.append(f'    #[prost(enumeration = "{rust_type_path(en, module)}", tag = "{tag}")]')
        rt = "i32"
    elif typ == "bytes":
        lines.append(f'    #[prost(bytes = "vec", tag = "{tag}")]')
        serde.append('with = "crate::pb::json::base64_bytes"')
        rt = "::prost::alloc::vec::Vec<u8>"
    elif typ in SCALARS:
        rs, ps = SCALARS[typ]
        lines.append(f'    #[prost({ps}, tag = "{tag}")]')
        rt = rs
    else:
        lines.append(f'    #[prost(message, optional, tag = "{tag}")]')
        rt = f"::core::option::Option<{rust_type_path(typ, module)}>"
    lines.append(f"    #[serde({', '.join(serde)})]")
    lines.append(f"    pub {rust_name}: {rt},")
    return "\n".join(lines)


def is_message_map(typ):
    if not typ.startswith("map<"):
        return False
    v = typ[4:-1].split(",")[1].strip()
    return v not in SCALARS


# Messages decoded once per pushed message: their repeated message fields reserve room for
# exactly one element on the first one (a push carries one message; prost's first reservation
# of four `MsgData` is a ~1.9 KB block, past the allocator's thread cache).
EXACT_FIRST_ELEMENT = {"PullMsgs"}


def needs_manual_impl(fields, name=None):
    return name in EXACT_FIRST_ELEMENT or any(is_message_map(f[1]) for f in fields)


def manual_impl(name, fields):
    enc, merge, length, clear = [], [], [], []
    for f in fields:
        pname, typ, tag = f[0], f[1], f[2]
        rn = f[4] if len(f) > 4 else snake(pname)
        if is_message_map(typ):
            enc.append(f"        crate::pb::wire::encode_message_map({tag}, &self.{rn}, buf);")
            merge.append(f"            {tag} => crate::pb::wire::merge_message_map(wire_type, &mut self.{rn}, buf, ctx)"
                         f".map_err(|mut e| {{ e.push(\"{name}\", \"{rn}\"); e }}),")
            length.append(f"crate::pb::wire::message_map_encoded_len({tag}, &self.{rn})")
        elif typ.startswith("rep ") and typ[4:] not in SCALARS:
            enc.append(f"        ::prost::encoding::message::encode_repeated({tag}, &self.{rn}, buf);")
            merge.append(f"            {tag} => {{ if self.{rn}.capacity() == 0 {{ self.{rn}.reserve_exact(1); }} "
                         f"::prost::encoding::message::merge_repeated(wire_type, &mut self.{rn}, buf, ctx)"
                         f".map_err(|mut e| {{ e.push(\"{name}\", \"{rn}\"); e }}) }}")
            length.append(f"::prost::encoding::message::encoded_len_repeated({tag}, &self.{rn})")
        elif typ in ("bool", "int64"):
            pt = SCALARS[typ][1]
            set = f"self.{rn}" if typ == "bool" else f"self.{rn} != 0"
            enc.append(f"        if {set} {{ ::prost::encoding::{pt}::encode({tag}, &self.{rn}, buf); }}")
            merge.append(f"            {tag} => ::prost::encoding::{pt}::merge(wire_type, &mut self.{rn}, buf, ctx)"
                         f".map_err(|mut e| {{ e.push(\"{name}\", \"{rn}\"); e }}),")
            length.append(f"(if {set} {{ ::prost::encoding::{pt}::encoded_len({tag}, &self.{rn}) }} else {{ 0 }})")
        elif typ == "rep string":
            enc.append(f"        ::prost::encoding::string::encode_repeated({tag}, &self.{rn}, buf);")
            merge.append(f"            {tag} => ::prost::encoding::string::merge_repeated(wire_type, &mut self.{rn}, buf, ctx)"
                         f".map_err(|mut e| {{ e.push(\"{name}\", \"{rn}\"); e }}),")
            length.append(f"::prost::encoding::string::encoded_len_repeated({tag}, &self.{rn})")
        else:
            raise SystemExit(f"manual impl of {name}: unsupported field type {typ}")
        if typ == "bool":
            clear.append(f"        self.{rn} = false;")
        elif typ == "int64":
            clear.append(f"        self.{rn} = 0;")
        else:
            clear.append(f"        self.{rn}.clear();")
    return "\n".join([
        f"impl ::prost::Message for {name} {{",
        "    fn encode_raw(&self, buf: &mut impl ::prost::bytes::BufMut) {",
        *enc,
        "    }",
        "",
        "    fn merge_field(",
        "        &mut self,",
        "        tag: u32,",
        "        wire_type: ::prost::encoding::WireType,",
        "        buf: &mut impl ::prost::bytes::Buf,",
        "        ctx: ::prost::encoding::DecodeContext,",
        "    ) -> ::core::result::Result<(), ::prost::DecodeError> {",
        "        match tag {",
        *merge,
        "            _ => ::prost::encoding::skip_field(wire_type, tag, buf, ctx),",
        "        }",
        "    }",
        "",
        "    fn encoded_len(&self) -> usize {",
        "        " + "\n            + ".join(length),
        "    }",
        "",
        "    fn clear(&mut self) {",
        *clear,
        "    }",
        "}",
    ])


def gen_module(module, spec):
    out = []
    out.append("// @generated by protocol/codegen/gen_pb.py from protocol/codegen/pb_schema.py. Do not edit.")
    out.append("")
    enums = set()
    for item in spec["items"]:
        kind = item[0]
        if kind == "enum":
            _, name, doc, values = item
            enums.add(name)
            for d in doc.split("\n"):
                out.append(f"/// {d}" if d else "///")
            out.append("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]")
            out.append("#[repr(i32)]")
            out.append(f"pub enum {name} {{")
            for vname, vnum, vdoc in values:
                out.append(f"    /// {vdoc}")
                out.append(f"    {vname} = {vnum},")
            out.append("}")
            out.append("")
        elif kind == "message":
            _, name, doc, fields = item
            manual = needs_manual_impl(fields, name)
            for d in doc.split("\n"):
                out.append(f"/// {d}" if d else "///")
            if manual and name in EXACT_FIRST_ELEMENT:
                out.append("///")
                out.append("/// Decoding reserves room for exactly one message on the first one (a push carries one).")
            if manual and name not in EXACT_FIRST_ELEMENT:
                out.append("///")
                out.append("/// Its message-valued map entries are always encoded with both key and value (as Go")
                out.append("/// does), so decoders that drop value-less entries (the JS SDK) see empty values too.")
            if manual:
                out.append("#[derive(Clone, PartialEq, Default, Debug, ::serde::Serialize, ::serde::Deserialize)]")
            else:
                out.append("#[derive(Clone, PartialEq, ::prost::Message, ::serde::Serialize, ::serde::Deserialize)]")
            out.append("#[serde(default)]")
            out.append(f"pub struct {name} {{")
            for f in fields:
                code = field_code(f, module, enums)
                if manual:
                    code = "\n".join(l for l in code.split("\n") if not l.strip().startswith("#[prost("))
                out.append(code)
            out.append("}")
            out.append("")
            if manual:
                out.append(manual_impl(name, fields))
                out.append("")
        elif kind == "raw":
            out.append(item[1])
            out.append("")
    return "\n".join(out)


def main():
    root = os.path.join(os.path.dirname(__file__), "..", "src", "pb")
    for module, spec in MODULES.items():
        path = os.path.join(root, f"{module}.rs")
        with open(path, "w") as fh:
            fh.write(gen_module(module, spec))
        print("wrote", path)


if __name__ == "__main__":
    main()


# ---------------------------------------------------------------------------
# proptest strategies for every message (protocol/tests/generated/arb.rs)
# ---------------------------------------------------------------------------

def arb_field(typ, module):
    def msg_path(t):
        if "::" in t:
            m, n = t.split("::")
        else:
            m, n = module, t
        return m, n

    if typ.startswith("map<"):
        k, v = [x.strip() for x in typ[4:-1].split(",")]
        vs = arb_scalar(v) if v in SCALARS else "arb_{}_{}()".format(*msg_path(v))
        return f"proptest::collection::btree_map({arb_scalar(k)}, {vs}, 0..3)"
    if typ.startswith("rep "):
        inner = typ[4:]
        s = arb_scalar(inner) if inner in SCALARS else "arb_{}_{}()".format(*msg_path(inner))
        return f"proptest::collection::vec({s}, 0..3)"
    if typ.startswith("enum "):
        return "any::<i32>()"
    if typ == "bytes":
        return "proptest::collection::vec(any::<u8>(), 0..24)"
    if typ in SCALARS:
        return arb_scalar(typ)
    return "proptest::option::of(arb_{}_{}())".format(*msg_path(typ))


def arb_scalar(t):
    return {"string": "arb_string()", "int32": "any::<i32>()", "int64": "any::<i64>()",
            "uint32": "any::<u32>()", "uint64": "any::<u64>()", "bool": "any::<bool>()"}[t]


def gen_arb():
    out = ["// @generated by protocol/codegen/gen_pb.py. Do not edit.",
           "// proptest strategies for every message of openim_protocol::pb, plus `for_each_message!`.",
           "#![allow(dead_code, non_snake_case, clippy::all)]",
           "",
           "use proptest::prelude::*;",
           "",
           "/// Short arbitrary strings (any Unicode, including control characters).",
           "pub fn arb_string() -> impl Strategy<Value = String> {",
           "    proptest::string::string_regex(\"(?s).{0,8}\").expect(\"valid regex\")",
           "}",
           ""]
    names = []
    for module, spec in MODULES.items():
        for item in spec["items"]:
            if item[0] != "message":
                continue
            _, name, _doc, fields = item
            names.append((module, name))
            path = f"openim_protocol::pb::{module}::{name}"
            out.append(f"pub fn arb_{module}_{name}() -> BoxedStrategy<{path}> {{")
            if not fields:
                out.append(f"    Just({path} {{}}).boxed()")
                out.append("}")
                out.append("")
                continue
            chunks = [fields[i:i + 8] for i in range(0, len(fields), 8)]
            strat_parts, pat_parts = [], []
            rust_names = []
            for ci, chunk in enumerate(chunks):
                strat_parts.append("(" + ", ".join(arb_field(f[1], module) for f in chunk) + ",)")
                ns = [(f[4] if len(f) > 4 else snake(f[0])) for f in chunk]
                rust_names += ns
                pat_parts.append("(" + ", ".join("v_" + n.replace("r#", "") for n in ns) + ",)")
            out.append(f"    ({', '.join(strat_parts)},)")
            out.append(f"        .prop_map(|({', '.join(pat_parts)},)| {path} {{")
            for n in rust_names:
                out.append(f"            {n}: v_{n.replace('r#', '')},")
            out.append("        })")
            out.append("        .boxed()")
            out.append("}")
            out.append("")
    out.append("/// Calls `$m!(module, Name, arb_fn)` for every message type.")
    out.append("#[macro_export]")
    out.append("macro_rules! for_each_message {")
    out.append("    ($m:ident) => {")
    for module, name in names:
        out.append(f"        $m!({module}, {name}, arb_{module}_{name});")
    out.append("    };")
    out.append("}")
    return "\n".join(out) + "\n"


def main_arb():
    root = os.path.join(os.path.dirname(__file__), "..", "tests", "generated")
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, "arb.rs")
    with open(path, "w") as fh:
        fh.write(gen_arb())
    print("wrote", path)


if __name__ == "__main__":
    main_arb()
