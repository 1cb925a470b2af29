//! One tree for each Open311 answer, written as JSON or as XML, so that the two formats cannot
//! drift apart. A list knows the name its items take in XML (`<services><service>…`), where
//! JSON has a plain array.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// The format a client asked for by the resource's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Xml,
}

impl Format {
    /// `name.json` or `name.xml` as the name and its format; anything else names no resource.
    pub(crate) fn split(file: &str) -> Option<(&str, Format)> {
        let (name, suffix) = file.rsplit_once('.')?;
        let format = match suffix {
            "json" => Format::Json,
            "xml" => Format::Xml,
            _ => return None,
        };
        (!name.is_empty()).then_some((name, format))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// An empty element in XML, `null` in JSON.
    Null,
    Text(String),
    /// A number, written bare in JSON.
    Number(String),
    Bool(bool),
    /// Items, each named `item` in XML.
    List(&'static str, Vec<Node>),
    Record(Vec<(&'static str, Node)>),
}

impl Node {
    pub(crate) fn text(value: impl Into<String>) -> Self {
        Self::Text(value.into())
    }

    /// Text if there is any, an empty element otherwise.
    pub(crate) fn optional(value: Option<impl Into<String>>) -> Self {
        value.map_or(Self::Null, |v| Self::Text(v.into()))
    }

    pub(crate) fn number(value: impl ToString) -> Self {
        Self::Number(value.to_string())
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => serializer.serialize_none(),
            Node::Text(text) => serializer.serialize_str(text),
            Node::Number(number) => match number.parse::<serde_json::Number>() {
                Ok(number) => number.serialize(serializer),
                Err(_) => serializer.serialize_str(number),
            },
            Node::Bool(value) => serializer.serialize_bool(*value),
            Node::List(_, items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Record(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (name, value) in fields {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }
    }
}

/// An answer: a tree under its root element's name, in the format asked for.
pub(crate) struct Document {
    pub status: StatusCode,
    pub format: Format,
    pub root: &'static str,
    pub body: Node,
}

impl Document {
    pub(crate) fn ok(format: Format, root: &'static str, body: Node) -> Self {
        Self {
            status: StatusCode::OK,
            format,
            root,
            body,
        }
    }

    pub(crate) fn render(&self) -> Vec<u8> {
        match self.format {
            Format::Json => serde_json::to_vec(&self.body).expect("a tree of strings serialises"),
            Format::Xml => {
                let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
                write_xml(&mut writer, self.root, &self.body);
                writer.into_inner()
            }
        }
    }
}

fn write_xml(writer: &mut Writer<Vec<u8>>, name: &str, node: &Node) {
    let written = match node {
        Node::Null => writer.write_event(Event::Empty(BytesStart::new(name))),
        Node::Text(text) | Node::Number(text) => writer
            .write_event(Event::Start(BytesStart::new(name)))
            .and_then(|()| writer.write_event(Event::Text(BytesText::new(text))))
            .and_then(|()| writer.write_event(Event::End(BytesEnd::new(name)))),
        Node::Bool(value) => writer
            .write_event(Event::Start(BytesStart::new(name)))
            .and_then(|()| {
                writer.write_event(Event::Text(BytesText::new(if *value {
                    "true"
                } else {
                    "false"
                })))
            })
            .and_then(|()| writer.write_event(Event::End(BytesEnd::new(name)))),
        Node::List(item, items) => {
            let started = writer.write_event(Event::Start(BytesStart::new(name)));
            for child in items {
                write_xml(writer, item, child);
            }
            started.and_then(|()| writer.write_event(Event::End(BytesEnd::new(name))))
        }
        Node::Record(fields) => {
            let started = writer.write_event(Event::Start(BytesStart::new(name)));
            for (field, child) in fields {
                write_xml(writer, field, child);
            }
            started.and_then(|()| writer.write_event(Event::End(BytesEnd::new(name))))
        }
    };
    written.expect("writing XML into memory cannot fail");
}

impl IntoResponse for Document {
    fn into_response(self) -> Response {
        let (content_type, mut body) = match self.format {
            Format::Json => ("application/json; charset=utf-8", Vec::new()),
            Format::Xml => ("text/xml; charset=utf-8", declaration()),
        };
        body.extend(self.render());
        (
            self.status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response()
    }
}

/// `<?xml version="1.0" encoding="utf-8"?>`, which the spec asks to precede the root.
fn declaration() -> Vec<u8> {
    let mut writer = Writer::new(Vec::new());
    writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
        .expect("writing XML into memory cannot fail");
    let mut bytes = writer.into_inner();
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Node {
        Node::List(
            "request",
            vec![Node::Record(vec![
                ("service_request_id", Node::text("CW-000001")),
                ("lat", Node::number(52.05)),
                ("account_id", Node::Null),
                ("metadata", Node::Bool(true)),
                ("description", Node::text("Bins & <boxes>")),
            ])],
        )
    }

    #[test]
    fn json_is_a_plain_array_in_order() {
        let document = Document::ok(Format::Json, "service_requests", sample());
        assert_eq!(
            String::from_utf8(document.render()).unwrap(),
            r#"[{"service_request_id":"CW-000001","lat":52.05,"account_id":null,"metadata":true,"description":"Bins & <boxes>"}]"#
        );
    }

    #[test]
    fn xml_names_each_item_and_escapes_text() {
        let document = Document::ok(Format::Xml, "service_requests", sample());
        let xml = String::from_utf8(document.render()).unwrap();
        assert_eq!(
            xml,
            "<service_requests>\n  <request>\n    <service_request_id>CW-000001</service_request_id>\n    \
             <lat>52.05</lat>\n    <account_id/>\n    <metadata>true</metadata>\n    \
             <description>Bins &amp; &lt;boxes&gt;</description>\n  </request>\n</service_requests>"
        );
    }

    #[test]
    fn only_json_and_xml_suffixes_name_a_resource() {
        assert_eq!(
            Format::split("services.xml"),
            Some(("services", Format::Xml))
        );
        assert_eq!(
            Format::split("CW-000001.json"),
            Some(("CW-000001", Format::Json))
        );
        assert_eq!(Format::split("services"), None);
        assert_eq!(Format::split("services.html"), None);
        assert_eq!(Format::split(".json"), None);
    }
}
