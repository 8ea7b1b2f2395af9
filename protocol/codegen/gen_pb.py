#!/usr/bin/env python3
"""Generates protocol/src/pb/*.rs from the schema in pb_schema.py.

The schema is this project's own transcription of the OpenIM v3.8 wire schema
(message names, field names, numbers and types as documented in
/work/shared/protocol/*.md). Each generated struct derives `prost::Message`
(binary protobuf) and serde (the Go `encoding/json` form: proto field names,
every field present, `null` for empty lists/maps and unset messages, bytes as
padded base64).

Run: python3 protocol/codegen/gen_pb.py   (then `cargo fmt -p openim-protocol`)
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


def needs_manual_impl(fields):
    return any(is_message_map(f[1]) for f in fields)


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
        elif typ == "rep string":
            enc.append(f"        ::prost::encoding::string::encode_repeated({tag}, &self.{rn}, buf);")
            merge.append(f"            {tag} => ::prost::encoding::string::merge_repeated(wire_type, &mut self.{rn}, buf, ctx)"
                         f".map_err(|mut e| {{ e.push(\"{name}\", \"{rn}\"); e }}),")
            length.append(f"::prost::encoding::string::encoded_len_repeated({tag}, &self.{rn})")
        else:
            raise SystemExit(f"manual impl of {name}: unsupported field type {typ}")
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
            manual = needs_manual_impl(fields)
            for d in doc.split("\n"):
                out.append(f"/// {d}" if d else "///")
            if manual:
                out.append("///")
                out.append("/// Its message-valued map entries are always encoded with both key and value (as Go")
                out.append("/// does), so decoders that drop value-less entries (the JS SDK) see empty values too.")
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
