/** Editing backup.yaml's `offsite:` list: the copy's lines change, every other byte stays. */
import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { editOffsiteText, offsiteEntries } from "../../src/config/edit-offsite.ts";

const HEAD = "# mine\nbackup_dir: /x   # synced\nservices:\n  a: true  # yes\n";
const LAB = { name: "lab", url: "s3://bucket/p", endpoint: "http://127.0.0.1:9000", path_style: true };
const LAB_LINES = "  - name: lab\n    url: s3://bucket/p\n    endpoint: http://127.0.0.1:9000\n    path_style: true\n";

describe("editOffsiteText", () => {
  test("the first copy makes the list at the end; the next goes after the last copy", () => {
    const one = editOffsiteText(HEAD, { add: LAB });
    expect(one).toBe(`${HEAD}\noffsite:\n${LAB_LINES}`);
    const two = editOffsiteText(one, { add: { name: "b2", url: "s3://b2b", keep_last: 5 } });
    expect(two).toBe(`${HEAD}\noffsite:\n${LAB_LINES}  - name: b2\n    url: s3://b2b\n    keep_last: 5\n`);
    expect(offsiteEntries(two).map((e) => e.name)).toEqual(["lab", "b2"]);
  });

  test("an empty `offsite:` or `offsite: []` gets the copy under it, its comment kept", () => {
    expect(editOffsiteText(`offsite:   # later\n${HEAD}`, { add: LAB })).toBe(
      `offsite:   # later\n${LAB_LINES}${HEAD}`,
    );
    expect(editOffsiteText(`offsite: []  # later\n${HEAD}`, { add: LAB })).toBe(
      `offsite:  # later\n${LAB_LINES}${HEAD}`,
    );
  });

  test("an edit changes, adds and removes keys in place; the copy's comments stay", () => {
    const text = `${HEAD}offsite:\n  - name: lab   # mine\n    url: s3://bucket/p  # here\n    region: eu\n`;
    const out = editOffsiteText(text, {
      replace: "lab",
      entry: { name: "lab", url: "s3://bucket/q", credentials: "~/k.env" },
    });
    expect(out).toBe(
      `${HEAD}offsite:\n  - name: lab   # mine\n    url: s3://bucket/q  # here\n    credentials: ~/k.env\n`,
    );
  });

  test("removing a copy removes its lines; the last one leaves `offsite:` empty", () => {
    const text = editOffsiteText(editOffsiteText(HEAD, { add: LAB }), { add: { name: "b2", url: "s3://b2b" } });
    const one = editOffsiteText(text, { remove: "lab" });
    expect(one).toBe(`${HEAD}\noffsite:\n  - name: b2\n    url: s3://b2b\n`);
    const none = editOffsiteText(one, { remove: "b2" });
    expect(none).toBe(`${HEAD}\noffsite:\n`);
    expect(parse(none).offsite).toBeNull();
  });

  test("a flow list is rendered, not lost; anchors and unknown names are refused", () => {
    const out = editOffsiteText("offsite: [{name: a, url: 's3://abc'}]\n", { remove: "a" });
    expect(parse(out)).toEqual({ offsite: null });
    expect(() => editOffsiteText("offsite: &o\n  - name: a\n    url: s3://abc\n", { remove: "a" })).toThrow(
      "anchors or aliases",
    );
    expect(() => editOffsiteText(HEAD, { remove: "nope" })).toThrow('no offsite copy called "nope"');
  });
});
