"""Word lists for Vietnamese-like benchmark data (titles, names, subjects)."""

import random

WORDS = (
    "sách tiếng việt toán học lịch sử địa lí khoa học tự nhiên văn học thiếu nhi truyện cổ tích "
    "quê hương đất nước con người tình yêu gia đình mùa xuân mùa thu mùa hè mùa đông biển đảo "
    "dòng sông cánh đồng làng quê thành phố hà nội huế sài gòn đà nẵng miền bắc miền trung miền "
    "nam tây nguyên đồng bằng núi rừng chiến tranh hòa bình tuổi thơ học trò thầy cô bạn bè ước mơ "
    "hành trình khám phá thế giới vũ trụ động vật thực vật môi trường kỹ năng sống giao tiếp "
    "tư duy sáng tạo đọc viết luyện chữ đẹp âm nhạc mĩ thuật thể thao bóng đá cờ vua nấu ăn "
    "y học sức khỏe dinh dưỡng tâm lí giáo dục công dân pháp luật kinh tế nông nghiệp công nghệ "
    "tin học lập trình máy tính internet điện thoại người lính anh hùng danh nhân bác hồ nhân dân "
    "dân tộc văn hóa phong tục lễ hội tết ca dao tục ngữ thơ ca tiểu thuyết truyện ngắn kí sự "
    "nhật kí hồi kí chuyện kể những ngày xưa bên kia bờ ánh sáng bóng tối giấc mơ con đường "
    "ngôi nhà khu vườn cây xanh hoa vàng cỏ xanh bầu trời mặt trời mặt trăng ngôi sao gió mưa"
).split()
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trịnh", "Đoàn", "Lâm"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Thanh", "Hữu", "Quang", "Thu", "Xuân", "Kim",
          "Công", "Bảo", "Gia", "Hoài"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hương", "Khánh", "Lan", "Long",
         "Mai", "Nam", "Nga", "Phúc", "Quyên", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Việt",
         "Yến", "Đạt", "Hùng", "Linh", "Nhung", "Oanh", "Phong", "Quân", "Thủy", "Uyên", "Vân"]
SUBJECTS = ["Văn học Việt Nam", "Truyện thiếu nhi", "Lịch sử Việt Nam", "Địa lí Việt Nam",
            "Toán học", "Khoa học tự nhiên", "Tin học", "Kỹ năng sống", "Sách giáo khoa",
            "Văn học dân gian", "Thơ ca", "Tiểu thuyết", "Giáo dục", "Âm nhạc", "Mĩ thuật",
            "Môi trường", "Động vật", "Thực vật", "Danh nhân", "Văn hóa Việt Nam"]
PUBLISHERS = ["NXB Kim Đồng", "NXB Trẻ", "NXB Giáo dục Việt Nam", "NXB Văn học",
              "NXB Hội Nhà văn", "NXB Đại học Sư phạm", "NXB Phụ nữ Việt Nam", "NXB Thanh niên"]


def title(rng: random.Random) -> str:
    words = rng.sample(WORDS, rng.randint(2, 6))
    return " ".join(words).capitalize()


def person(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
