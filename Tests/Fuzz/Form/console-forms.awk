# Copies the shape of every Decodable struct of the staff console (its stored `var name: Type` lines) into a
# Codable, Equatable struct of the same name for FormFuzz.swift, and lists them in `consoleForms`. Methods and
# computed properties are left out: they use the rest of the kiosk, which the fuzz target does not build.
# A stored field of a type the form coder cannot handle alone breaks the fuzz build, on purpose.
/^(private |fileprivate )?struct [A-Za-z_][A-Za-z0-9_]*: *(Decodable|Codable)/ {
    name = $0
    sub(/^(private |fileprivate )?struct /, "", name)
    sub(/:.*/, "", name)
    inside = 1
    fields = ""
    next
}
inside && /^    (public |package )?var [A-Za-z_][A-Za-z0-9_]*: [A-Za-z0-9_?<>\[\]]+ *$/ {
    line = $0
    sub(/^    (public |package )?/, "    ", line)
    fields = fields line "\n"
    next
}
inside && /^}/ {
    printf "/// The shape of the console's `%s` (%s).\nstruct %s: Codable, Equatable {\n%s}\n\n", name, FILENAME, name, fields
    names = names "    FormShape(name: \"" name "\", check: { check(" name ".self, $0) }),\n"
    inside = 0
}
END {
    printf "/// Every form of the staff console, as found in Sources/JiayuanWeb/Console when the fuzz target was built.\nlet consoleForms: [FormShape] = [\n%s]\n", names
}
