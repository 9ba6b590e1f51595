"""Checks objects against the CEL rules (x-kubernetes-validations) of their published CRDs, offline.

The 1.20 API server predates CEL and drops these rules, and no CEL library is installed here, so this
evaluates the subset of CEL the CRDs in ../shared/k8s/crds use (31 distinct rules: field selection,
has(), size(), contains(), exists(), isCIDR(), comparisons, && || ! and ?:) with CEL's semantics where
they matter: && and || absorb an error when the other side decides, == between values of different
types is false (an int-or-string port against a number), ints and doubles compare by value, and
selecting a field that is absent is an error (a failed rule), as in the API server.

  crd_cel.py CRD_DIR FILE...     every object of FILE... against the CRD of its group and kind
  crd_cel.py --self-test CRD_DIR objects that break a rule are caught, and the rule named

Prints one line per object and exits 1 if any rule fails or cannot be evaluated.
"""
import glob
import ipaddress
import re
import sys

import yaml

TOKEN = re.compile(r"""\s*(?:(?P<number>\d+\.\d+|\d+)|(?P<string>'[^']*'|"[^"]*")|(?P<name>[A-Za-z_][A-Za-z0-9_]*)
                    |(?P<op>==|!=|<=|>=|&&|\|\||[-+*/%<>!?:.,()\[\]]))""", re.X)


class CELError(Exception):
    pass


def tokens(text):
    position, found = 0, []
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if not match:
            raise CELError(f"cannot read {text[position:]!r}")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "number":
            value = float(value) if "." in value else int(value)
        elif kind == "string":
            value = value[1:-1]
        found.append((kind, value))
        position = match.end()
    found.append(("end", None))
    return found


class Parser:
    """CEL's grammar, for the operators the rules use: ?: || && ! == != < <= > >= and selection, calls."""

    def __init__(self, text):
        self.tokens, self.at = tokens(text), 0

    def peek(self, value=None):
        kind, token = self.tokens[self.at]
        return token if value is None else (kind == "op" and token == value)

    def take(self, value=None):
        kind, token = self.tokens[self.at]
        if value is not None and not (kind == "op" and token == value):
            raise CELError(f"expected {value!r}, found {token!r}")
        self.at += 1
        return kind, token

    def parse(self):
        tree = self.conditional()
        if self.tokens[self.at][0] != "end":
            raise CELError(f"unexpected {self.tokens[self.at][1]!r}")
        return tree

    def conditional(self):
        test = self.binary(0)
        if self.peek("?"):
            self.take("?")
            yes = self.conditional()
            self.take(":")
            return ("?:", test, yes, self.conditional())
        return test

    LEVELS = [("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">=")]

    def binary(self, level):
        if level == len(self.LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.tokens[self.at][0] == "op" and self.tokens[self.at][1] in self.LEVELS[level]:
            _, op = self.take()
            left = (op, left, self.binary(level + 1))
        return left

    def unary(self):
        if self.peek("!"):
            self.take("!")
            return ("!", self.unary())
        if self.peek("-"):
            self.take("-")
            return ("neg", self.unary())
        return self.member()

    def member(self):
        tree = self.primary()
        while True:
            if self.peek("."):
                self.take(".")
                _, name = self.take()
                if self.peek("("):
                    tree = ("method", name, tree, self.arguments())
                else:
                    tree = ("select", tree, name)
            elif self.peek("["):
                self.take("[")
                index = self.conditional()
                self.take("]")
                tree = ("index", tree, index)
            else:
                return tree

    def arguments(self):
        self.take("(")
        found = []
        while not self.peek(")"):
            found.append(self.conditional())
            if self.peek(","):
                self.take(",")
        self.take(")")
        return found

    def primary(self):
        kind, token = self.take()
        if kind in ("number", "string"):
            return ("literal", token)
        if kind == "name":
            if token in ("true", "false", "null"):
                return ("literal", {"true": True, "false": False, "null": None}[token])
            if self.peek("("):
                return ("call", token, self.arguments())
            return ("name", token)
        if kind == "op" and token == "(":
            tree = self.conditional()
            self.take(")")
            return tree
        raise CELError(f"unexpected {token!r}")


def number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def same(a, b):
    """CEL's heterogeneous equality: values of different types are unequal; numbers compare by value."""
    if number(a) and number(b):
        return a == b
    return type(a) is type(b) and a == b


def evaluate(tree, scope):
    op = tree[0]
    if op == "literal":
        return tree[1]
    if op == "name":
        if tree[1] not in scope:
            raise CELError(f"undeclared reference {tree[1]}")
        return scope[tree[1]]
    if op == "select":
        target = evaluate(tree[1], scope)
        if not isinstance(target, dict) or tree[2] not in target:
            raise CELError(f"no such key: {tree[2]}")
        return target[tree[2]]
    if op == "index":
        target, index = evaluate(tree[1], scope), evaluate(tree[2], scope)
        try:
            return target[index]
        except (KeyError, IndexError, TypeError):
            raise CELError(f"no such key: {index}")
    if op in ("||", "&&"):
        decisive = op == "||"
        error = None
        for side in tree[1:]:
            try:
                value = evaluate(side, scope)
            except CELError as problem:
                error = problem
                continue
            if not isinstance(value, bool):
                raise CELError(f"{op} of a non-boolean")
            if value == decisive:
                return decisive
        if error:
            raise error
        return not decisive
    if op == "!":
        value = evaluate(tree[1], scope)
        if not isinstance(value, bool):
            raise CELError("! of a non-boolean")
        return not value
    if op == "neg":
        return -evaluate(tree[1], scope)
    if op == "?:":
        test = evaluate(tree[1], scope)
        if not isinstance(test, bool):
            raise CELError("?: on a non-boolean")
        return evaluate(tree[2] if test else tree[3], scope)
    if op in ("==", "!="):
        equal = same(evaluate(tree[1], scope), evaluate(tree[2], scope))
        return equal if op == "==" else not equal
    if op in ("<", "<=", ">", ">="):
        a, b = evaluate(tree[1], scope), evaluate(tree[2], scope)
        if not ((number(a) and number(b)) or (isinstance(a, str) and isinstance(b, str))):
            raise CELError(f"no such overload: {op} on {type(a).__name__}, {type(b).__name__}")
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    if op == "call":
        name, arguments = tree[1], tree[2]
        if name == "has":
            selection = arguments[0]
            if len(arguments) != 1 or selection[0] != "select":
                raise CELError("has() takes a field selection")
            target = evaluate(selection[1], scope)
            if not isinstance(target, dict):
                raise CELError("has() on a non-object")
            return selection[2] in target
        values = [evaluate(argument, scope) for argument in arguments]
        if name == "size" and len(values) == 1 and isinstance(values[0], (str, list, dict)):
            return len(values[0])
        if name == "isCIDR" and len(values) == 1 and isinstance(values[0], str):
            try:
                ipaddress.ip_network(values[0], strict=False)
                return "/" in values[0]
            except ValueError:
                return False
        raise CELError(f"no such function: {name}")
    if op == "method":
        name, target_tree, arguments = tree[1], tree[2], tree[3]
        if name in ("exists", "all"):
            variable = arguments[0]
            if variable[0] != "name" or len(arguments) != 2:
                raise CELError(f"{name}() takes a variable and a predicate")
            target = evaluate(target_tree, scope)
            items = list(target.keys()) if isinstance(target, dict) else target
            if not isinstance(items, list):
                raise CELError(f"{name}() on a non-list")
            results = [evaluate(arguments[1], {**scope, variable[1]: item}) for item in items]
            if any(not isinstance(result, bool) for result in results):
                raise CELError(f"{name}() predicate is not boolean")
            return any(results) if name == "exists" else all(results)
        target = evaluate(target_tree, scope)
        values = [evaluate(argument, scope) for argument in arguments]
        if name == "contains" and isinstance(target, str) and len(values) == 1 and isinstance(values[0], str):
            return values[0] in target
        if name == "size" and not values and isinstance(target, (str, list, dict)):
            return len(target)
        raise CELError(f"no such method: {name}")
    raise CELError(f"cannot evaluate {op}")


def schemas(crd_dir):
    """(group, version, kind) -> the openAPIV3Schema of that served version."""
    found = {}
    # network-policy-api's experimental channel comes first: it is the standard one and more.
    for path in sorted(glob.glob(f"{crd_dir}/**/*.yaml", recursive=True)):
        for crd in yaml.safe_load_all(open(path)):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                schema = (version.get("schema") or {}).get("openAPIV3Schema")
                if schema:
                    found.setdefault((spec["group"], version["name"], spec["names"]["kind"]), schema)
    return found


def check(value, schema, path, failures, counted):
    """Every rule of `schema` and of the schemas below it that the value reaches."""
    for validation in schema.get("x-kubernetes-validations") or []:
        counted[0] += 1
        rule = validation["rule"]
        try:
            holds = evaluate(Parser(rule).parse(), {"self": value})
            if holds is not True:
                failures.append(f"{path}: {validation.get('message') or rule}  (rule: {rule})")
        except CELError as error:
            failures.append(f"{path}: the rule cannot be evaluated ({error})  (rule: {rule})")
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            below = properties.get(key) or (extra if isinstance(extra, dict) else None)
            if below:
                check(item, below, f"{path}.{key}", failures, counted)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            check(item, schema["items"], f"{path}[{index}]", failures, counted)


def verify(objects, found):
    """One line per object; the number of failures."""
    failed = 0
    for source, obj in objects:
        group, _, version = obj["apiVersion"].rpartition("/")
        key = (group, version, obj["kind"])
        name = f"{obj['kind']} {obj['metadata'].get('namespace', '') + '/' if obj['metadata'].get('namespace') else ''}{obj['metadata']['name']}"
        if key not in found:
            print(f"skip {source}: {name}: no CRD for {obj['apiVersion']} {obj['kind']} (a built-in kind)")
            continue
        failures, counted = [], [0]
        check(obj, found[key], "", failures, counted)
        if failures:
            failed += 1
            print(f"FAIL {source}: {name}: {len(failures)} of {counted[0]} rule checks fail")
            for failure in failures:
                print(f"       {failure}")
        else:
            print(f"ok   {source}: {name}: {counted[0]} rule checks hold")
    return failed


# Objects that break one rule each (and one that holds), to show the checker can fail.
SELF_TEST = """
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: default}
spec: {order: 5, defaultAction: Deny}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: icmp-on-v6, namespace: ai}
spec:
  ingress:
  - {action: Allow, protocol: ICMP, ipVersion: 6}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: services-and-ports}
spec:
  egress:
  - action: Allow
    destination: {services: {name: kube-dns, namespace: kube-system}, ports: [53]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: networks-and-named-port}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {}}
  egress:
  - action: Accept
    to: [{networks: [10.0.0.0/8]}]
    protocols: [{destinationNamedPort: http}]
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: default}
spec: {order: 1000000, defaultAction: Deny}
"""
EXPECTED = ["order", "ICMP", "ports and notPorts cannot be specified with services", "namedPort", None]


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--self-test":
        found = schemas(sys.argv[2])
        objects = [(f"self-test[{i}]", o) for i, o in enumerate(yaml.safe_load_all(SELF_TEST)) if o]
        for (source, obj), expected in zip(objects, EXPECTED):
            failures, counted = [], [0]
            group, _, version = obj["apiVersion"].rpartition("/")
            check(obj, found[(group, version, obj["kind"])], "", failures, counted)
            if expected is None and failures:
                raise SystemExit(f"{source}: expected to hold: {failures}")
            if expected is not None and not any(expected in failure for failure in failures):
                raise SystemExit(f"{source}: expected a failure naming {expected!r}, got {failures}")
        print(f"ok   CEL self-test: {len(objects) - 1} objects that break a rule caught, one that holds passes")
        return
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    found = schemas(sys.argv[1])
    objects = [(path, o) for path in sys.argv[2:] for o in yaml.safe_load_all(open(path)) if o]
    if verify(objects, found):
        sys.exit(1)


if __name__ == "__main__":
    main()
