"""Build the PDF and DOCX example documents in examples/.

The source text of the four binary examples lives in this file, so that the documents can
be read, reviewed and regenerated. Each document is a list of blocks:

    ("title", text)   document title
    ("h", text)       section heading
    ("p", text)       paragraph
    ("table", rows)   table; the first row is the header
    ("page",)         page break (PDF and DOCX)

Run from the repository root:

    .venv/bin/python scripts/make_examples.py

Needs fpdf2 (PDF, core Helvetica font, so all text must be latin-1) and python-docx.
The text and labels are described in examples/README.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from docx import Document
from docx.shared import Pt
from fpdf import FPDF

OUT = Path(__file__).resolve().parent.parent / "examples"
FIXED_DATE = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)

Block = tuple

# ---------------------------------------------------------------------------------------
# PDF 1: national implementation guidance (managerial), three pages
# ---------------------------------------------------------------------------------------
NATIONAL_GUIDANCE: list[Block] = [
    ("title", "Same Day Emergency Care: Implementation Guidance for Acute Trusts"),
    (
        "p",
        "National Urgent Care Programme. Publication reference UCP-2025-014. "
        "Version 1.0, April 2025. Classification: Official.",
    ),
    ("h", "1. Purpose"),
    (
        "p",
        "This guidance sets out what every acute trust with a type 1 emergency department "
        "is required to put in place to deliver same day emergency care (SDEC) during "
        "2025/26. It supports delivery of the national commitment that at least one third "
        "of emergency admissions are managed without an overnight stay, and it should be "
        "read alongside the 2025/26 operational planning guidance.",
    ),
    ("h", "2. Requirements"),
    (
        "p",
        "By 1 October 2025, every trust must provide SDEC services for at least 12 hours a "
        "day, seven days a week, covering medical, surgical, frailty and paediatric "
        "pathways. Trusts must adopt the national SDEC directory of conditions and the "
        "standard streaming protocol at the front door, so that suitable patients are "
        "identified within 30 minutes of arrival. Local variations to the protocol require "
        "written agreement from the regional urgent care lead.",
    ),
    (
        "p",
        "Chief operating officers are the accountable officers for delivery. Each trust "
        "must name an executive lead for SDEC and confirm the name to the regional team by "
        "31 May 2025.",
    ),
    ("h", "3. Workforce and training"),
    (
        "p",
        "Trusts are expected to staff SDEC units in line with the recommended workforce "
        "model in Annex A. All clinicians working in SDEC will be required to complete the "
        "national SDEC e-learning package, and trusts will be asked to report completion "
        "rates each quarter. Clinical engagement is essential to successful implementation: "
        "trusts should brief senior clinicians on the new model early, to secure their "
        "buy-in before go-live.",
    ),
    ("h", "4. Assurance and reporting"),
    (
        "p",
        "Trusts will submit the SDEC minimum data set (Annex B) monthly through the "
        "national data collection platform. Performance will be published on the national "
        "urgent care dashboard and reviewed at regional oversight meetings. Trusts that do "
        "not meet the interim trajectory of 28 per cent by December 2025 will be required "
        "to submit a recovery plan and may be placed in the intensive support tier of the "
        "oversight framework.",
    ),
    (
        "p",
        "Capital and revenue funding for 2025/26 will be released in two tranches. The "
        "second tranche is conditional on evidence that the requirements in section 2 have "
        "been met in full.",
    ),
    ("page",),
    ("h", "Annex A: Recommended workforce model (per 20 SDEC spaces)"),
    (
        "table",
        [
            ["Role", "Minimum cover", "Hours"],
            ["Consultant (acute medicine or surgery)", "1.0 WTE", "08:00 to 20:00"],
            ["Registered nurse, band 6 or above", "2.0 WTE", "08:00 to 20:00"],
            ["Advanced clinical practitioner", "1.0 WTE", "10:00 to 20:00"],
            ["Therapist (physiotherapy or OT)", "0.5 WTE", "08:00 to 16:00"],
            ["Administrator", "1.0 WTE", "08:00 to 20:00"],
        ],
    ),
    ("h", "Annex B: Minimum data set"),
    (
        "table",
        [
            ["Field", "Definition", "Frequency"],
            ["SDEC attendances", "Patients streamed to SDEC", "Monthly"],
            ["Zero-day admissions", "Admitted and discharged the same day", "Monthly"],
            ["Time to streaming", "Arrival to streaming decision, median minutes", "Monthly"],
            ["Reattendance", "Return within 7 days, per cent", "Quarterly"],
        ],
    ),
    ("h", "Contact"),
    (
        "p",
        "Enquiries about this guidance: urgentcare.programme@national.example. "
        "Regional urgent care leads are listed on the programme website.",
    ),
]

# ---------------------------------------------------------------------------------------
# PDF 2: union organising leaflet (grassroots), one page
# ---------------------------------------------------------------------------------------
UNION_LEAFLET: list[Block] = [
    ("title", "OUR ROTAS, OUR LIVES"),
    (
        "p",
        "Health Workers' Union, Kingsmoor Hospitals Branch. A leaflet for theatre, "
        "recovery and anaesthetic staff.",
    ),
    ("h", "Another system imposed on us"),
    (
        "p",
        "In January management switched on the new electronic rostering system in theatres. "
        "Nobody asked the people who actually work the shifts. Since then, rotas have been "
        "published with less than four weeks' notice, long days have been stacked back to "
        "back, and requests for school pick-ups and caring duties are being turned down by "
        "an algorithm. We are told the system is about 'efficiency'. For us it means missed "
        "bedtimes and burnt-out colleagues.",
    ),
    ("h", "We are not waiting for them to fix it"),
    (
        "p",
        "Over the last month, members from every theatre suite have been meeting in break "
        "rooms and car parks to talk about what a fair rota looks like. More than 180 of us "
        "have signed the Fair Rota Pledge: we will stand together, we will not swap away "
        "each other's protected days, and we will back any colleague who refuses an unsafe "
        "run of shifts. Recovery staff have already drawn up their own self-rostering "
        "pattern, and they plan to put it to managers as a working alternative, not a "
        "request.",
    ),
    (
        "p",
        "This is how things change: not because someone at the top decides to be kind, but "
        "because enough of us stand up together. Talk to the person next to you in the "
        "coffee room. Ask them to sign. Bring them to the meeting.",
    ),
    ("h", "Our demands"),
    (
        "p",
        "Rotas published at least six weeks ahead. Flexible working requests decided by "
        "people, not software. A staff-led review of the rostering rules, with our reps in "
        "the room from day one.",
    ),
    ("h", "Branch meeting"),
    (
        "p",
        "Thursday 15 May, 12.30pm and again at 7.30pm, Education Centre seminar room 2. "
        "Sandwiches provided. Not a member yet? Join at the meeting or online at "
        "hwu.example/join. Your rep: Dave Mensah, theatres, bleep 2214.",
    ),
]

# ---------------------------------------------------------------------------------------
# DOCX 1: trust board paper (managerial)
# ---------------------------------------------------------------------------------------
BOARD_PAPER: list[Block] = [
    ("title", "Northfield and Vale NHS Foundation Trust"),
    (
        "p",
        "Board of Directors (meeting in public), 26 June 2025. Agenda item 9. "
        "Urgent and Emergency Care Improvement Plan 2025/26. Presented by: Chief Operating "
        "Officer. Purpose: for approval.",
    ),
    ("h", "1. Executive summary"),
    (
        "p",
        "The trust's four-hour emergency access performance averaged 68.4 per cent in "
        "2024/25, against the national standard of 78 per cent for March 2026. This paper "
        "asks the Board to approve the Urgent and Emergency Care Improvement Plan, which "
        "sets a monthly trajectory to reach 78 per cent and describes the actions, "
        "accountabilities and governance that will deliver it.",
    ),
    ("h", "2. The plan"),
    (
        "p",
        "The plan has four workstreams, each led by an executive director: front door "
        "streaming, same day emergency care, inpatient flow and discharge. Each workstream "
        "has a set of milestones and key performance indicators, agreed by the executive "
        "team, which will be tracked weekly through the new UEC performance dashboard. "
        "Divisional directors are accountable for delivery of the actions in their areas.",
    ),
    (
        "p",
        "From 1 July, all inpatient wards will be required to hold a consultant-led board "
        "round by 10am every day and to complete an estimated date of discharge for every "
        "patient within 24 hours of admission. Compliance will be audited weekly by the "
        "patient flow team. Wards below 85 per cent compliance for two consecutive weeks "
        "will be escalated to the divisional performance review.",
    ),
    (
        "p",
        "Staff engagement will be important. The communications team will run briefing "
        "sessions for ward managers in July, and clinical directors will be asked to "
        "cascade the plan to their teams to build understanding and buy-in.",
    ),
    ("h", "3. Trajectory"),
    (
        "table",
        [
            ["Quarter", "Four-hour performance target", "Zero-day SDEC admissions"],
            ["Q2 2025/26", "71%", "25%"],
            ["Q3 2025/26", "74%", "28%"],
            ["Q4 2025/26", "78%", "33%"],
        ],
    ),
    ("h", "4. Governance"),
    (
        "p",
        "Progress will be reported monthly to the Finance and Performance Committee and "
        "quarterly to the Board, with exception reports where the trajectory is not met. "
        "The plan will also be reported to the integrated care board through the system "
        "urgent care oversight group.",
    ),
    ("h", "5. Financial implications"),
    (
        "p",
        "The plan requires £1.8m of non-recurrent investment in 2025/26, of which £1.1m "
        "is funded from the national UEC capacity allocation and £0.7m from the trust's "
        "contingency reserve. There is no recurrent cost pressure.",
    ),
    ("h", "6. Recommendation"),
    (
        "p",
        "The Board is asked to approve the Urgent and Emergency Care Improvement Plan and "
        "the trajectory in section 3, and to note the governance arrangements.",
    ),
]

# ---------------------------------------------------------------------------------------
# DOCX 2: job advert with a framing "about us" and terms and conditions (managerial)
# ---------------------------------------------------------------------------------------
JOB_ADVERT: list[Block] = [
    ("title", "Transformation Programme Manager"),
    (
        "p",
        "Riverside Community Health NHS Trust. Corporate Services, Programme Management "
        "Office. Job reference 281-PMO-0425.",
    ),
    ("h", "About us"),
    (
        "p",
        "Riverside Community Health is in the second year of Delivering Better Care, our "
        "five-year transformation programme approved by the Trust Board in 2024. The "
        "programme will move community nursing, therapies and rehabilitation to a single "
        "integrated model across the borough, standardise clinical pathways, and deliver "
        "£6m of recurrent efficiency savings by 2027.",
    ),
    (
        "p",
        "Our Programme Management Office drives delivery of the programme. We set the "
        "milestones, track benefits and risks, and give the executive team and the Board "
        "assurance that every project is on plan. We are looking for a programme manager "
        "who can hold services to account for their commitments and keep the programme on "
        "track.",
    ),
    ("h", "The role"),
    (
        "p",
        "You will lead the integrated community teams workstream, making sure that each of "
        "the six locality teams moves to the new operating model on schedule. You will "
        "manage the workstream plan, produce monthly highlight reports for the Programme "
        "Board, and escalate risks and slippage to the Director of Transformation. You will "
        "work with operational managers and clinical leads to secure engagement with the "
        "new model and make sure staff are trained and ready for go-live in each locality.",
    ),
    ("h", "Terms and conditions"),
    (
        "table",
        [
            ["Item", "Detail"],
            ["Band", "Agenda for Change band 8a"],
            ["Salary", "£53,755 to £60,504 per annum"],
            ["Hours", "37.5 hours per week, hybrid working available"],
            ["Contract", "Fixed term for 24 months"],
            ["Base", "Riverside House, Mill Street, with travel across the borough"],
            ["Closing date", "11 July 2025 at midnight"],
            ["Interviews", "24 July 2025"],
        ],
    ),
    (
        "p",
        "Benefits include 27 days' annual leave rising with service, plus bank holidays; "
        "membership of the NHS Pension Scheme; salary sacrifice schemes for cars, bicycles "
        "and home electronics; an employee assistance programme; and free parking at all "
        "trust sites.",
    ),
    ("h", "How to apply"),
    (
        "p",
        "Apply online through the trust's recruitment site, quoting job reference "
        "281-PMO-0425. For an informal discussion, contact Sarah Whitfield, Head of the "
        "Programme Management Office, on 020 7946 0813. The trust is a Disability "
        "Confident employer and welcomes applications from all sections of the community.",
    ),
]

PDF_DOCS = {
    "national_guidance_sdec.pdf": NATIONAL_GUIDANCE,
    "union_leaflet_rotas.pdf": UNION_LEAFLET,
}
DOCX_DOCS = {
    "trust_board_paper_uec.docx": BOARD_PAPER,
    "job_advert_transformation.docx": JOB_ADVERT,
}


def block_texts(blocks: list[Block]) -> list[str]:
    """All the strings in a document, table cells included."""
    texts: list[str] = []
    for block in blocks:
        if block[0] == "table":
            texts.extend(cell for row in block[1] for cell in row)
        elif len(block) > 1:
            texts.append(block[1])
    return texts


def check_latin1(blocks: list[Block]) -> None:
    """The core PDF fonts only cover latin-1; fail early rather than print '?'."""
    for text in block_texts(blocks):
        text.encode("latin-1")


def build_pdf(blocks: list[Block], path: Path) -> None:
    check_latin1(blocks)
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    for block in blocks:
        kind = block[0]
        if kind == "title":
            pdf.set_title(block[1])
            pdf.set_font("Helvetica", "B", 16)
            pdf.multi_cell(0, 8, block[1], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        elif kind == "h":
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 7, block[1], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif kind == "p":
            pdf.set_font("Helvetica", "", 10.5)
            pdf.multi_cell(0, 5.5, block[1], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        elif kind == "table":
            pdf.set_font("Helvetica", "", 10)
            with pdf.table(text_align="LEFT", line_height=6) as table:
                for row in block[1]:
                    table_row = table.row()
                    for cell in row:
                        table_row.cell(cell)
            pdf.ln(4)
        elif kind == "page":
            pdf.add_page()
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    pdf.output(str(path))


def build_docx(blocks: list[Block], path: Path) -> None:
    doc = Document()
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(11)
    doc.core_properties.created = FIXED_DATE.replace(tzinfo=None)
    doc.core_properties.modified = FIXED_DATE.replace(tzinfo=None)
    doc.core_properties.author = "framing examples"
    for block in blocks:
        kind = block[0]
        if kind == "title":
            doc.core_properties.title = block[1]
            doc.add_heading(block[1], level=0)
        elif kind == "h":
            doc.add_heading(block[1], level=1)
        elif kind == "p":
            doc.add_paragraph(block[1])
        elif kind == "table":
            rows = block[1]
            table = doc.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
                    if r == 0:
                        for run in table.cell(r, c).paragraphs[0].runs:
                            run.bold = True
        elif kind == "page":
            doc.add_page_break()
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    doc.save(str(path))


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, blocks in PDF_DOCS.items():
        build_pdf(blocks, OUT / name)
        print(f"wrote {OUT / name}")
    for name, blocks in DOCX_DOCS.items():
        build_docx(blocks, OUT / name)
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
