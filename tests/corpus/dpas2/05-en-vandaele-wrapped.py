"""Writes 05-en-vandaele-wrapped.txt: a managed-hosting company's DPA as it is sent as plain text
(an e-mail attachment, a text export): lines hard-wrapped at 72 characters, clauses with a hanging
indent, long words hyphenated over two lines where the wrap falls in them ("~" in the source
marks where a word may be broken; a real hyphen may also be a break), headings and "ANNEX 1" in
capitals, annex labels ending in a colon with their answer on the next line(s).

    python3 tests/corpus/dpas2/05-en-vandaele-wrapped.py
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).with_suffix(".txt")
WIDTH = 72


def wrap(text: str, first: str = "", rest: str = "") -> list[str]:
    """Greedy wrap to WIDTH; a word that does not fit is broken at its last "~" (or "-") that
    fits, with a hyphen at the end of the line."""
    lines: list[str] = []
    line = first
    for word in text.split():
        while True:
            sep = "" if line.strip() == "" or line == first else " "
            plain = word.replace("~", "")
            if len(line) + len(sep) + len(plain) <= WIDTH:
                line += sep + plain
                break
            room = WIDTH - len(line) - len(sep) - 1
            cut = -1
            for i, ch in enumerate(word):
                if ch in "~-":
                    head = word[:i].replace("~", "")
                    if len(head) <= room and len(head) >= 3:
                        cut = i
            if cut > 0 and line.strip():
                head = word[:cut].replace("~", "")
                lines.append(line + sep + head + "-")
                word = word[cut + 1 :]
                line = rest
                continue
            lines.append(line)
            line = rest
    if line.strip():
        lines.append(line)
    return lines


DOC: list[tuple] = [
    ("center", "DATA PROCESSING AGREEMENT"),
    ("center", "(Article 28 of the General Data Protection Regulation)"),
    ("blank",),
    ("para", "BETWEEN"),
    ("blank",),
    (
        "para",
        "__________________________________________, with registered office at "
        "__________________________________________, enterprise number "
        "____________________, represented by ______________________________ "
        '(the "Controller");',
    ),
    ("blank",),
    ("para", "AND"),
    ("blank",),
    (
        "para",
        "Vandaele IT Services BV, with registered office at Brugse Heirweg 214, "
        "8500 Kortrijk, Belgium, enterprise number BE 0823.556.104, represented "
        'by Pieter Vandaele, managing director (the "Processor").',
    ),
    ("blank",),
    ("para", 'The Controller and the Processor are each a "Party" and together the "Parties".'),
    ("blank",),
    (
        "para",
        "WHEREAS the Processor provides managed hosting, backup and monitoring "
        'services to the Controller under a ser~vices agreement (the "Services '
        "Agreement\"), and in doing so processes personal data on the Control~ler's "
        "behalf, the Parties agree as follows.",
    ),
    ("blank",),
    ("heading", "1. DEFINITIONS AND INTERPRETATION"),
    (
        "clause",
        "1.1",
        '"GDPR" means Regulation (EU) 2016/679 of the European Parliament '
        "and of the Council of 27 April 2016 on the protection of natural persons "
        "with regard to the process~ing of personal data and on the free movement "
        "of such data.",
    ),
    (
        "clause",
        "1.2",
        '"Personal Data" means the personal data that the Processor pro~cesses '
        "on behalf of the Controller under the Services Agree~ment, as described "
        "in Annex 1.",
    ),
    (
        "clause",
        "1.3",
        'Words such as "controller", "processor", "data subject", '
        '"personal data breach" and "supervisory authority" have the mean~ing '
        "given to them in the GDPR.",
    ),
    ("heading", "2. SUBJECT MATTER AND INSTRUCTIONS"),
    (
        "clause",
        "2.1",
        "The Processor shall process the Personal Data only on docu~mented "
        "instructions from the Controller, including with regard to transfers to a "
        "third country, unless required to do so by Union or Member State law to "
        "which the Processor is subject; in such a case, the Processor shall inform "
        "the Controller of that legal require~ment before processing, unless that "
        "law prohibits such informa~tion.",
    ),
    (
        "clause",
        "2.2",
        "The Processor shall immediately inform the Controller if, in its "
        "opinion, an instruction infringes the GDPR or other Union or Member State "
        "data protection provisions.",
    ),
    ("heading", "3. CONFIDENTIALITY AND SECURITY"),
    (
        "clause",
        "3.1",
        "The Processor shall ensure that persons authorised to process the "
        "Personal Data have committed themselves to confidential~ity or are under an "
        "appropriate statutory obligation of confi~dentiality.",
    ),
    (
        "clause",
        "3.2",
        "The Processor shall implement appropriate technical and organisa~tional "
        "measures to ensure a level of security appropriate to the risk, including "
        "encryption of backups, network segmenta~tion, multi-factor authentication "
        "for administrative access, patch management within fourteen days for "
        "critical vulnerabil~ities, and physical access control at its data centre "
        "in Marke (Belgium).",
    ),
    ("heading", "4. SUB-PROCESSORS"),
    (
        "clause",
        "4.1",
        "The Controller grants the Processor general authorisation to engage "
        "sub-processors. At the date of this Agreement the Processor engages "
        "LCL Data Centers NV (colocation, Belgium) and Combell NV (off-site backup "
        "storage, Belgium).",
    ),
    (
        "clause",
        "4.2",
        "The Processor shall inform the Controller in writing at least thirty "
        "days in advance of any intended addition or replace~ment of a sub-processor, "
        "thereby giving the Controller the opportu~nity to object to such changes.",
    ),
    (
        "clause",
        "4.3",
        "Where the Processor engages a sub-processor, it shall impose on it the "
        "same data protection obligations as set out in this Agree~ment, and shall "
        "remain fully liable to the Controller for the performance of the "
        "sub-processor's obligations.",
    ),
    ("heading", "5. ASSISTANCE"),
    (
        "clause",
        "5.1",
        "Taking into account the nature of the processing, the Processor shall "
        "assist the Controller by appropriate technical and organi~sational measures "
        "in fulfilling the Controller's obligation to respond to requests for "
        "exercising the data subject's rights.",
    ),
    (
        "clause",
        "5.2",
        "The Processor shall assist the Controller in ensuring compliance with "
        "the obligations pursuant to Articles 32 to 36 of the GDPR, taking into "
        "account the nature of processing and the information available to the "
        "Processor.",
    ),
    ("heading", "6. PERSONAL DATA BREACHES"),
    (
        "clause",
        "6.1",
        "The Processor shall notify the Controller without undue delay, and in "
        "any case within forty-eight hours, after becoming aware of a personal data "
        "breach, by telephone and by e-mail to the contact person designated by the "
        "Controller.",
    ),
    ("heading", "7. AUDITS"),
    (
        "clause",
        "7.1",
        "The Processor shall make available to the Controller all informa~tion "
        "necessary to demonstrate compliance with this Agreement and shall allow for "
        "and contribute to audits, including inspec~tions, conducted by the "
        "Controller or another auditor mandated by the Controller, on reasonable "
        "notice and during business hours.",
    ),
    ("heading", "8. TERM, DELETION AND RETURN"),
    (
        "clause",
        "8.1",
        "This Agreement remains in force for as long as the Processor processes "
        "Personal Data on behalf of the Controller.",
    ),
    (
        "clause",
        "8.2",
        "At the end of the provision of services, the Processor shall, at the "
        "choice of the Controller, delete or return all the Personal Data to the "
        "Controller and delete existing copies, unless Union or Member State law "
        "requires storage of the Personal Data.",
    ),
    ("heading", "9. GOVERNING LAW"),
    (
        "clause",
        "9.1",
        "This Agreement is governed by Belgian law. The courts of Ghent, "
        "division Kortrijk, have exclusive jurisdiction.",
    ),
    ("blank",),
    ("para", "Signed in Kortrijk on ____________________, in two originals."),
    ("blank",),
    ("raw", "For the Controller                   For the Processor"),
    ("blank",),
    ("blank",),
    ("raw", "______________________________       ______________________________"),
    ("raw", "Name:                                Name: Pieter Vandaele"),
    ("raw", "Title:                               Title: managing director"),
    ("blank",),
    ("blank",),
    ("center", "ANNEX 1"),
    ("center", "DESCRIPTION OF THE PROCESSING"),
    ("blank",),
    (
        "para",
        "The Controller completes the items left open. Items already com~pleted by "
        "the Processor may be amended by the Controller.",
    ),
    ("blank",),
    ("label", "Subject matter of the processing:"),
    (
        "para",
        "Managed hosting, backup and monitoring of the Controller's servers, "
        "databases and business applications, as described in the Services "
        "Agreement.",
    ),
    ("blank",),
    ("label", "Duration of the processing:"),
    (
        "para",
        "The term of the Services Agreement, plus the period needed to return or "
        "delete the Personal Data under clause 8.2.",
    ),
    ("blank",),
    ("label", "Nature and purpose of the processing:"),
    (
        "para",
        "Storage, backup, restoration, transmission and, where needed for incident "
        "handling, consultation of data held on the hosted infra~structure, for the "
        "sole purpose of keeping the Controller's systems available, secure and "
        "recoverable.",
    ),
    ("blank",),
    ("label", "Types of personal data:"),
    ("raw", "______________________________________________________________"),
    ("blank",),
    ("label", "Categories of data subjects:"),
    ("raw", "______________________________________________________________"),
    ("blank",),
    ("label", "Contact details of the Controller's data protection officer:"),
    ("raw", "Name:      ____________________________________________________"),
    ("raw", "E-mail:    ____________________________________________________"),
    ("raw", "Telephone: ____________________________________________________"),
]


def main() -> None:
    out: list[str] = []
    for block in DOC:
        kind = block[0]
        if kind == "blank":
            out.append("")
        elif kind == "center":
            out.append(block[1].center(WIDTH).rstrip())
        elif kind == "raw" or kind == "label":
            out.append(block[1])
        elif kind == "para":
            out.extend(wrap(block[1]))
        elif kind == "heading":
            out.append("")
            out.append(block[1])
            out.append("")
        elif kind == "clause":
            number, text = block[1], block[2]
            out.extend(wrap(text, first=f"{number:<5}", rest=" " * 5))
    OUT.write_text("\n".join(out) + "\n", encoding="utf-8")
    assert max(len(line) for line in out) <= WIDTH, max(out, key=len)


if __name__ == "__main__":
    main()
