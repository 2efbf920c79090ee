import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** A parsed XML element: child elements by tag (repeated tags become arrays), attributes as `@_<name>`. */
export type XmlElement = { readonly [key: string]: XmlValue };
export type XmlValue = string | XmlElement | readonly XmlValue[];

const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, parseAttributeValue: false });

/** Parse a generated configuration file; throws with the parser's message unless it is well-formed. */
export function parseXml(text: string): XmlElement {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})\n${text}`);
  return parser.parse(text) as XmlElement;
}

/** The element at `path` (tags separated by '.'); throws if a step is missing or is not an element. */
export function xmlAt(root: XmlElement, path: string): XmlValue {
  let node: XmlValue = root;
  for (const tag of path.split('.')) {
    if (typeof node !== 'object' || Array.isArray(node) || !(tag in node)) throw new Error(`no <${tag}> on the way to ${path}`);
    node = (node as XmlElement)[tag] as XmlValue;
  }
  return node;
}

/** Child elements of one tag as a list, whether the tag occurs once or many times. */
export function xmlList(value: XmlValue | undefined): readonly XmlValue[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value as XmlValue];
}
